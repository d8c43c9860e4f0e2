import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("training", "0005_translated_model_names")]
AFTER = [("training", "0006_fail_imported_nerf_avatars")]


@pytest.fixture
def migrated_back_to_latest():
    """The schema as the other tests expect it, whatever state the test left it in."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrated_back_to_latest")
def test_nerf_avatars_imported_from_archives_are_failed_so_they_never_render():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("training", "Avatar")
    for avatar_id, engine, metrics in [("imported_nerf", "SyncTalk", {"imported": True}),
                                       ("imported_ernerf", "ER-NeRF", {"imported": True}),
                                       ("trained_nerf", "SyncTalk", {"held_out": 1.0}),
                                       ("imported_builtin", "builtin", {"imported": True})]:
        old.objects.create(id=avatar_id, engine=engine, status="ready", source_video="x.mp4", epochs=1,
                           metrics=metrics)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("training", "Avatar")

    assert dict(new.objects.values_list("id", "status")) == {
        "imported_nerf": "failed", "imported_ernerf": "failed", "trained_nerf": "ready", "imported_builtin": "ready"}
