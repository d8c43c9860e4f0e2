"""The system status and history pages."""

from __future__ import annotations

import pytest

from monitoring.models import HistoryRecord, HistoryType, Task
from tests.browser import screenshot

# The fixtures (browser, page, no_worker, chinese_by_default) come from tests/browser.py (conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chinese_by_default")]


def test_it_fills_in_the_system_status_and_fits_a_phone(page, settings):
    settings.STATUS_POLL_SECONDS = 0.3
    settings.STATUS_CHART_MINUTES = 0.05  # ten readings across the chart, so its line shows at once
    page.goto("/pages/status")

    page.wait_for_function(
        "() => document.querySelector('[data-metric=cpu] [data-value]').textContent.endsWith('%')"
    )
    page.wait_for_timeout(800)

    for metric in ("cpu", "memory", "disk"):
        value = page.inner_text(f"[data-metric={metric}] [data-value]")
        assert 0 <= float(value.rstrip("%")) <= 100
    assert "GiB" in page.inner_text("[data-metric=memory] [data-detail]")
    assert "GiB" in page.inner_text("[data-metric=disk] [data-detail]")
    # The chart has drawn its line (the memory card's green; the grid and axis labels are grey).
    drawn = page.eval_on_selector("[data-metric=memory] canvas", """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i + 1] - d[i] > 80 && d[i + 3] > 200) return true;
        return false;
    }""")
    assert drawn
    screenshot(page, "status")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/pages/chat")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.is_hidden(".mainnav")
    page.click(".nav-toggle-label")
    assert page.is_visible(".mainnav")
    screenshot(page, "chat-phone")


def test_it_shows_gpu_figures_the_gpu_does_not_report_as_unreported(page, settings, monkeypatch):
    import monitoring.system

    settings.STATUS_POLL_SECONDS = 0.3
    mig = {"index": 0, "name": "H200 MIG 1g.18gb", "load": 0.0, "memory_used": 2 * 1024**3,
           "memory_total": 18 * 1024**3, "temperature": 0, "unreported": ["load", "temperature"]}
    full = {"index": 1, "name": "H200", "load": 42.5, "memory_used": 1024**3, "memory_total": 141 * 1024**3,
            "temperature": 35}
    monkeypatch.setattr(monitoring.system, "gpu_stats", lambda: [mig, full])
    colour = """(c, [r, g, b]) => {
        if (!c) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0 && Math.abs(d[i] - r) < 8 && Math.abs(d[i + 1] - g) < 8 && Math.abs(d[i + 2] - b) < 8) return true;
        }
        return false;
    }"""
    purple = [0x8E, 0x44, 0xAD]

    page.goto("/pages/status")
    # Two readings or more: the second card has drawn its line.
    page.wait_for_function(f"() => ({colour})(document.querySelector('#gpus .card:nth-child(2) canvas'), {purple})")

    first, second = page.locator("#gpus .card").all()
    assert first.locator("[data-value]").inner_text() == "未报告"
    assert first.locator("[data-detail]").inner_text() == "显存 2.0 GiB / 18.0 GiB · 温度 未报告"
    assert not first.locator("canvas").evaluate(f"c => ({colour})(c, {purple})")
    assert second.locator("[data-value]").inner_text() == "42.5%"
    assert second.locator("[data-detail]").inner_text() == "显存 1.0 GiB / 141.0 GiB · 35 °C"


def test_it_moves_to_the_next_history_page_only_once_it_loaded(page, user):
    for _ in range(25):
        HistoryRecord.objects.create(type=HistoryType.VIDEO_GENERATION, owner=user,
                                     status=HistoryRecord.Status.COMPLETED, parameters={}, result={})
    page.goto("/pages/history")
    page.select_option("#page-size", "10")
    page.wait_for_selector("#page-label:text('1 / 3')")
    page.route("**/api/history/**", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"status": "error", "message": "Internal error."}'))

    page.click("#next")
    page.wait_for_selector("#history-message.error")

    assert page.inner_text("#page-label").startswith("1 / 3")
    assert page.is_disabled("#previous")
    page.unroute("**/api/history/**")
    page.click("#next")
    page.wait_for_selector("#page-label:text('2 / 3')")
    assert page.inner_text("#history-message") == ""


def test_a_failed_task_runs_again_from_the_history_page(page, user, no_worker):
    from monitoring import jobs

    failed = jobs.submit(HistoryType.VIDEO_GENERATION, "tests.jobs.count_job", {"steps": 1}, owner=user,
                         queue="GPU0")
    failed.finish(Task.Status.FAILED, "The engine ran out of GPU memory.")
    page.goto("/pages/history")

    page.click("#history button.retry")
    page.wait_for_selector("#history-message.ok")

    again = Task.objects.exclude(pk=failed.pk).get()
    assert page.inner_text("#history-message") == f"已重新排队: {again.pk}"
    assert again.parameters["retry_of"] == failed.pk and again.status == Task.Status.QUEUED
    assert page.locator("#history tbody tr").count() == 2
    assert page.locator("#history tbody tr:first-child .badge.queued").count() == 1


def test_it_pages_history_by_type_and_shows_failures(page, user):
    for n in range(12):
        HistoryRecord.objects.create(
            type=HistoryType.VIDEO_GENERATION, owner=user, status=HistoryRecord.Status.COMPLETED, duration=1.5,
            parameters={"model_name": "builtin", "model_param": f"avatar_{n}", "custom_params": {"lr": 0.01}},
            result={"video_path": f"/video/v{n}.mp4"},
        )
    HistoryRecord.objects.create(
        type=HistoryType.AUDIO_CLONE, owner=user, status=HistoryRecord.Status.FAILED,
        parameters={"audio_id": "x"}, result={"message": "The reference has less than 3 s of audio."},
    )
    page.goto("/pages/history")

    page.select_option("#page-size", "10")
    page.wait_for_selector("#page-label:text('1 / 2')")
    assert page.locator("#history tbody tr").count() == 10
    page.click("#next")
    page.wait_for_selector("#page-label:text('2 / 2')")
    assert page.locator("#history tbody tr").count() == 2
    assert page.get_attribute("#history tbody tr:first-child a[data-kind=video]", "href").startswith("/video/v")
    page.click("#history tbody tr:first-child details summary")
    fields = page.locator("#history tbody tr:first-child details > dl.fields")
    assert fields.locator(":scope > dt").all_inner_texts() == ["model_name", "model_param", "custom_params"]
    assert fields.locator("dd dl dt").inner_text() == "lr" and fields.locator("dd dl dd").inner_text() == "0.01"
    screenshot(page, "history")

    page.click("#tabs [data-type=audio_clone]")
    page.wait_for_selector("#page-label:text('1 / 1')")

    assert "less than 3 s" in page.inner_text("#history .message.error")
    assert page.locator("#history tbody tr").count() == 1
    filter_names = page.locator("#status-filter option").all_inner_texts()
    assert filter_names == ["全部", "排队中", "运行中", "已完成", "失败", "已取消"]  # as the table names them


def test_a_failed_voice_clone_offers_no_retry_but_a_failed_speech_does(page, user, no_worker):
    from monitoring import jobs

    for mode in ("clone", "generate"):
        task = jobs.submit(HistoryType.AUDIO_CLONE, "tests.jobs.count_job", {"steps": 1, "mode": mode}, owner=user,
                           queue="CPU")
        task.finish(Task.Status.FAILED, f"{mode} failed")
    page.goto("/pages/history")

    page.click("#tabs [data-type=audio_clone]")
    page.wait_for_selector("#history tbody tr:nth-child(2)")

    rows = page.locator("#history tbody tr")
    assert [rows.nth(n).locator("button.retry").count() for n in range(2)] == [1, 0]  # newest first: speech
