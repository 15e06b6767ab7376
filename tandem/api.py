from ninja import NinjaAPI

api = NinjaAPI(title="Tandem", version="1", urls_namespace="api")
