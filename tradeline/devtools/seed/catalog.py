"""Demo seed step: sync the catalog from the supplier simulator `tradeline run_demo` started."""

import time

from django.conf import settings

from tradeline.catalog.services import catalog_sync


def seed(env: dict) -> dict:
    url = env.get("TRADELINE_API_URL") or settings.TRADELINE_API_URL
    sync = None
    for _ in range(10):  # the simulator may still be starting
        sync = catalog_sync()
        if sync.status == sync.Status.SUCCEEDED:
            break
        time.sleep(0.5)
    result = {"url": url}
    if sync is not None and sync.status == sync.Status.SUCCEEDED:
        result["tradelines"] = sync.rows_stored
        print(f"catalog: {sync.rows_stored} tradelines synced from the supplier simulator ({url})")
    else:
        result["error"] = sync.error if sync else "not synced"
        print(f"catalog: could not sync from {url}: {result['error']}")
    return {"supplier": result}
