"""SyncTalk and ER-NeRF avatars imported from uploaded archives (possible before archives of those
engines were refused) hold checkpoints their upstream unpickles: mark them failed so they are never
rendered; the admin or ``prune`` deletes them with their files."""

from django.db import migrations

NERF_ENGINES = ("SyncTalk", "ER-NeRF")


def fail_imported_nerf_avatars(apps, schema_editor):
    Avatar = apps.get_model("training", "Avatar")
    for avatar in Avatar.objects.filter(engine__in=NERF_ENGINES).exclude(status="failed"):
        if (avatar.metrics or {}).get("imported"):
            avatar.status = "failed"
            avatar.metrics = {**avatar.metrics, "failed_because": "imported NeRF checkpoints are not trusted"}
            avatar.save(update_fields=["status", "metrics"])


class Migration(migrations.Migration):
    dependencies = [("training", "0005_translated_model_names")]

    operations = [migrations.RunPython(fail_imported_nerf_avatars, migrations.RunPython.noop)]
