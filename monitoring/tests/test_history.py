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


def test_it_pages_history(api, records):
    response = api.get("/api/history/video_generation", {"page": 3, "page_size": 10})

    body = response.json()
    assert body["page"] == 3
    assert body["num_pages"] == 3
    assert len(body["history"]) == 5


def test_it_filters_history_by_status(api, records):
    response = api.get("/api/history/video_generation", {"status": "failed"})

    assert response.json()["total_count"] == 5


def test_it_shows_staff_every_users_history(api, records, user):
    user.is_staff = True
    user.save()

    response = api.get("/api/history/video_generation")

    assert response.json()["total_count"] == 26


def test_it_refuses_an_unknown_history_type(api, records):
    response = api.get("/api/history/cooking")

    assert response.status_code == 404
    assert response.json()["status"] == "error"


@pytest.mark.parametrize("query", [{"page": "0"}, {"page_size": "1000"}, {"status": "done"}])
def test_it_refuses_bad_paging(api, records, query):
    response = api.get("/api/history/video_generation", query)

    assert response.status_code == 400
