from voices.engines.text_frontend import Run, chinese_number, chunks, language_runs, to_pinyin


def test_it_splits_mixed_text_into_language_runs():
    runs = language_runs("你好，世界! Hello world, 我有3个apple。")

    assert [run.language for run in runs] == ["zh", "en", "zh", "en"]
    assert runs[0].text == "ni3 hao3, shi4 jie4!"
    assert runs[1].text == "Hello world,"
    assert runs[2].text == "wo3 you3 san1 ge4"


def test_it_reads_numbers_in_the_language_around_them():
    runs = language_runs("今天是2024年。It costs 15 dollars.")

    assert runs[0].text == "jin1 tian1 shi4 er4 qian1 ling2 er4 shi2 si4 nian2."
    assert runs[1].text == "It costs 15 dollars."


def test_it_reads_chinese_numbers():
    assert chinese_number("10") == "十"
    assert chinese_number("1005") == "一千零五"
    assert chinese_number("100000001") == "一亿零一"
    assert chinese_number("3.14") == "三点一四"
    assert chinese_number("50%") == "百分之五十"


def test_it_writes_pinyin_with_tone_numbers_and_neutral_tone_five():
    assert to_pinyin("我们好吗？") == "wo3 men5 hao3 ma5?"


def test_it_chunks_long_text_at_sentence_ends():
    text = "First sentence here. Second one! 第三句话。第四句话？" * 10

    pieces = chunks(text, limit=60)

    assert all(len(piece) <= 60 for piece in pieces)
    assert all(piece[-1] in ".!。？" for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_it_cuts_a_sentence_longer_than_the_limit_at_a_comma():
    pieces = chunks("one, two, three, four, five, six, seven, eight, nine, ten.", limit=20)

    assert len(pieces) > 1
    assert all(len(piece) <= 20 for piece in pieces)


def test_it_drops_runs_with_nothing_to_say():
    assert language_runs("…… !!") == []


def test_decimal_points_and_dotted_names_do_not_end_a_sentence():
    assert chunks("Pi is 3.14 today. Visit example.com now!", limit=25) == ["Pi is 3.14 today.", "Visit example.com now!"]
    assert language_runs("增长了3.5%") == [Run("zh", "zeng1 zhang3 le5 bai3 fen1 zhi1 san1 dian3 wu3")]


def test_fullwidth_digits_thousands_and_markup_are_read_as_meant():
    assert language_runs("I have １２３ apples") == [Run("en", "I have 123 apples")]
    assert language_runs("共1,000元") == [Run("zh", "gong4 yi1 qian1 yuan2")]
    spoken = language_runs("**Really** [[h@l'oU]] # done")[0].text
    assert not set("*#[]") & set(spoken)
    assert spoken.split() == ["Really", "h@l'oU", "done"]
