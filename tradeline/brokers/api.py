from ninja import Router

router = Router()
admin_router = Router()
auth_router = Router()
