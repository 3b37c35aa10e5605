"""`tradeline seed_demo_history --months 3`: past orders, refunds, disputes and payouts for the demo brokers."""

from django.core.management.base import BaseCommand, CommandError

from tradeline.devtools.seed import history as demo


class Command(BaseCommand):
    help = (
        "Create realistic past orders for the ACTIVE demo brokers (@demo.local) through the real order, "
        "payment, refund, dispute, commission and payout services: paid, refunded, partially refunded and "
        "disputed orders over the last full UTC months, with the monthly payouts of all but the last month "
        "(left for you to run). "
        "Needs the catalog (supplier simulator) to be reachable. Does nothing if demo history exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=3, help="how many past months (1..24, default 3)")

    def handle(self, *args, months: int = 3, **options):
        if not 1 <= months <= 24:
            raise CommandError("--months must be between 1 and 24")
        result = demo.seed({}, months=months)["demo_history"]
        if "skipped" in result:
            self.stdout.write(f"Demo history not created: {result['skipped']}.")
            return
        self.stdout.write(
            f"Demo history for {', '.join(result['months'])}: {result['orders']} orders, {result['refunds']} refunds, "
            f"{result['disputes']} disputes, {result['payouts']} payouts (paid); left for you to pay out: "
            f"{result['left_to_run']} (admin: Payouts → Run a month)."
        )
