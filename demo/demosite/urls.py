from django.urls import include, path

from shop import views

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("items/", views.items, name="items"),
    path("items/<int:item_id>/", views.item_detail, name="item-detail"),
    path("status/<int:code>/", views.status, name="status"),
    path("boom/", views.boom, name="boom"),
    path("transactions/", views.transactions, name="transactions"),
    path("tasks/", views.enqueue, name="enqueue"),
    # /metrics
    path("", include("django_prometheus.urls")),
]
