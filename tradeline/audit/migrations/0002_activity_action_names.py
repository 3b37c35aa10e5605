"""One naming scheme for activity-log actions: `<entity>.<what happened>` in lower case (as
`order.paid`). The commission and payout actions were written in upper case; rename the rows."""

from django.db import migrations

RENAMED = {
    "COMMISSION_CREATED": "commission.created",
    "COMMISSION_REDUCED": "commission.reduced",
    "COMMISSION_CLAWBACK_BOOKED": "commission.clawback_booked",
    "COMMISSION_HELD": "commission.held",
    "COMMISSION_DISPUTE_LOST": "commission.dispute_lost",
    "COMMISSION_RELEASED": "commission.released",
    "PAYOUT_CREATED": "payout.created",
    "PAYOUT_COMPLETED": "payout.completed",
    "PAYOUT_FAILED": "payout.failed",
    "PAYOUT_CANCELLED": "payout.cancelled",
}


def forward(apps, schema_editor):
    ActivityLog = apps.get_model("audit", "ActivityLog")
    for old, new in RENAMED.items():
        ActivityLog.objects.filter(action=old).update(action=new)


def backward(apps, schema_editor):
    ActivityLog = apps.get_model("audit", "ActivityLog")
    for old, new in RENAMED.items():
        ActivityLog.objects.filter(action=new).update(action=old)


class Migration(migrations.Migration):

    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
