"""Logging in through the real login forms, shared by the browser tests."""


def login_admin(page, base: str, *, email: str, password: str) -> None:
    """The admin login form; waits for the overview (its "today" figures)."""
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#period-today")


def login_broker(page, base: str, *, email: str, password: str) -> None:
    """The broker portal login form; waits for the portal home (its 30-day sales)."""
    page.goto(f"{base}/portal/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#sales-30")
