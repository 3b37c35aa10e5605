"""Version 1 of the Tradeline User Agreement: the text every checkout accepts until an admin
publishes a new version in the dashboard. The text is frozen here (not imported), so the hash
of version 1 never changes."""

import hashlib

from django.db import migrations

TITLE = "Tradeline User Agreement"

BODY = """\
This agreement is between you (the "Customer") and the Tradeline marketplace ("we", "us") for the
purchase of authorized-user tradelines. Read it before you buy; by ticking "I agree" at checkout you
accept it in full.

1. What you buy. A tradeline is a place as an authorized user on an existing credit card account
held by a third party (the "cardholder"). You do not receive a card, access to the account or any
credit. The cardholder's account history, limit and age are shown at checkout as they were when you
bought.

2. How it is delivered. After your payment we place your order with our supplier. The supplier adds
you as an authorized user before the card's purchase deadline. The card issuer then reports the
account at its next statement date (the "reporting period" shown for each tradeline). The tradeline
is delivered when the account has been reported with you as an authorized user. We send you an
email at each stage and you can follow them on your order-status page.

3. No guaranteed result. Credit bureaus and lenders decide how they use the information reported to
them. We do not promise any change in a credit score, approval for credit or any other outcome, and
we give no credit repair or legal advice.

4. Your information. You confirm that the personal details you give us are true, belong to you and
may be passed to the supplier and the card issuer to add you as an authorized user. We keep a record
of this acceptance (the version of this text, the time, your IP address and browser) as evidence of
the sale.

5. Cancellations and refunds. You may cancel for a full refund until the supplier has added you as
an authorized user. If the supplier cannot add you or the account does not report, we refund the
affected tradeline. Once a tradeline has been reported, it is delivered and is not refundable.

6. Disputes. If something is wrong with your order, contact support first using the details on your
order-status page; we answer within two business days. A chargeback filed for a delivered tradeline
will be answered with the records described in section 4.

7. Removal. Authorized-user status is temporary: the cardholder removes you after the reporting
period stated at checkout. The account may continue to appear in your credit history according to
the bureaus' own rules.

8. General. This agreement is governed by the laws of the State of Delaware. If a part of it is
unenforceable, the rest remains in force. We may publish a new version; the version you accepted at
checkout applies to your order.
"""


def publish_default(apps, schema_editor):
    AgreementVersion = apps.get_model("agreements", "AgreementVersion")
    if not AgreementVersion.objects.exists():
        AgreementVersion.objects.create(version=1, title=TITLE, body=BODY,
                                        text_sha256=hashlib.sha256(BODY.encode("utf-8")).hexdigest())


def unpublish_default(apps, schema_editor):
    AgreementVersion = apps.get_model("agreements", "AgreementVersion")
    AgreementVersion.objects.filter(version=1, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]
    operations = [migrations.RunPython(publish_default, unpublish_default)]
