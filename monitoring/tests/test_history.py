from datetime import UTC, datetime

import pytest

from monitoring.models import HistoryRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(user, other_user):
    for index in range(25):
        HistoryRecord.objects.create(
            type="video_generation", status="completed" if index % 5 else "failed",
            parameters={"n": index}, result={}, owner=user,
        )
    HistoryRecord.objects.create(type="video_generation", status="completed", owner=other_user)
    HistoryRecord.objects.create(type="audio_clone", status="completed", owner=user)


def test_it_lists_history_in_the_spec_shape(api, records):
    response = api.get("/api/history/video_generation")

    body = response.json()
    assert body["status"] == "success"
    assert body["total_count"] == 25
    item = body["history"][0]
    assert set(item) >= {"id", "timestamp", "parameters", "result", "status"}
    assert item["id"].startswith("record_")
    assert item["parameters"] == {"n": 24}


def test_it_shows_times_in_the_site_time_zone(api, user, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    HistoryRecord.objects.create(type="video_generation", status="completed", owner=user,
                                 created_at=datetime(2026, 1, 2, 23, 30, tzinfo=UTC))

    item = api.get("/api/history/video_generation").json()["history"][0]

    assert item["timestamp"] == "2026-01-03 07:30:00"


def test_it_pages_history(api, records):
    response = api.get("/api/history/video_generation", {"page": 3, "page_size": 10})

    body = response.json()
    assert body["page"] == 3
    assert body["num_pages"] == 3
    assert len(body["history"]) == 5


def test_a_page_past_the_last_is_empty_not_the_last_again(api, records):
    """A client paging until the list comes back empty must stop."""
    body = api.get("/api/history/video_generation", {"page": 99, "page_size": 10}).json()

    assert (body["page"], body["num_pages"], body["total_count"], body["history"]) == (99, 3, 25, [])


def test_it_filters_history_by_status(api, records):
    response = api.get("/api/history/video_generation", {"status": "failed"})

    assert response.json()["total_count"] == 5


def test_it_shows_staff_every_users_history(api, records, user):
    user.is_staff = True
    user.save()

    response = api.get("/api/history/video_generation")
    own = api.get("/api/history/video_generation", {"mine": 1})

    assert response.json()["total_count"] == 26
    assert own.json()["total_count"] == 25  # what the pages ask for to follow the user's own tasks


def test_it_refuses_an_unknown_history_type(api, records):
    response = api.get("/api/history/cooking")

    assert response.status_code == 404
    assert response.json()["status"] == "error"


@pytest.mark.parametrize("query", [{"page": "0"}, {"page_size": "1000"}, {"status": "done"}])
def test_it_refuses_bad_paging(api, records, query):
    response = api.get("/api/history/video_generation", query)

    assert response.status_code == 400


@pytest.fixture
def count_cache(settings):
    from django.core.cache import cache

    settings.HISTORY_COUNT_CACHE_MIN_ROWS = 20
    settings.HISTORY_COUNT_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def test_it_reuses_a_large_count_for_a_while(api, records, user, count_cache):
    api.get("/api/history/video_generation")
    HistoryRecord.objects.create(type="video_generation", status="completed", owner=user)

    body = api.get("/api/history/video_generation").json()

    assert body["total_count"] == 25  # the cached count; the new row is listed all the same
    assert body["history"][0]["id"] == f"record_{HistoryRecord.objects.latest('id').pk}"


def test_it_counts_small_histories_and_each_filter_afresh(api, records, user, count_cache):
    api.get("/api/history/video_generation", {"status": "failed"})
    HistoryRecord.objects.create(type="video_generation", status="failed", owner=user)

    assert api.get("/api/history/video_generation", {"status": "failed"}).json()["total_count"] == 6
    assert api.get("/api/history/video_generation").json()["total_count"] == 26


def test_it_keeps_staff_counts_apart_from_their_own(api, records, user, count_cache):
    assert api.get("/api/history/video_generation").json()["total_count"] == 25
    user.is_staff = True
    user.save()

    assert api.get("/api/history/video_generation").json()["total_count"] == 26


def test_a_refused_request_of_thousands_of_fields_keeps_a_bounded_history_row(api):
    body = {f"k{index}" * 50: "x" * 1999 for index in range(1000)}  # 2.3 MB: under DATA_UPLOAD_MAX_MEMORY_SIZE

    response = api.post("/audio_clone", {**body, "audio_id": "zz"}, format="json")

    assert response.status_code == 400
    parameters = HistoryRecord.objects.get(type="audio_clone").parameters
    assert len(parameters) == 41
    assert parameters["…"] == "961 more field(s) not kept"
    assert max(len(key) for key in parameters) <= 100


def test_a_json_body_refused_as_too_large_keeps_a_history_row(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api.post("/audio_clone", {"audio_id": "zz", "original_audio_path": "x" * 2000}, format="json")

    assert response.status_code == 413
    row = HistoryRecord.objects.get(type="audio_clone")
    assert row.status == "failed" and "larger than 1000" in str(row.result)


@pytest.mark.django_db(transaction=True)
def test_an_upload_the_client_gave_up_on_leaves_no_failed_history_row(live_server, user):
    """The pages' "cancel upload" aborts the request mid-body: nothing was asked, nothing failed."""
    import socket

    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    boundary = "----cut-short"
    begun = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="model_choice"\r\n\r\nbuiltin\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="ref_video"; filename="me.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode() + bytes(200_000)
    request = (
        f"POST /model_training HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token {token.key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 5000000\r\n\r\n"
    ).encode()

    with socket.create_connection((live_server.thread.host, live_server.thread.port), timeout=30) as connection:
        connection.sendall(request + begun)
        connection.shutdown(socket.SHUT_WR)  # the rest of the announced body never comes
        answer = connection.recv(65536)

    assert answer.startswith(b"HTTP/1.1 400") or answer.startswith(b"HTTP/1.0 400"), answer[:200]
    assert not HistoryRecord.objects.exists()
