from ninja import Router

router = Router()
brokers_router = Router()
