"""Views that produce every kind of data the dashboards show: 2xx/4xx/5xx
responses, an exception, model inserts/updates/deletes, committed and rolled
back transactions, and Celery tasks."""
from __future__ import annotations

import json

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .models import Item, TaskRun


class DemoError(Exception):
    """Raised by /boom/ (shows up in django_http_exceptions_total_by_type_total)."""


def _payload(request: HttpRequest) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


@require_GET
def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"app": "demo", "items": Item.objects.count()})


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_http_methods(["GET", "POST"])
def items(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        rows = [i.as_dict() for i in Item.objects.order_by("-id")[:50]]
        return JsonResponse({"items": rows})
    data = _payload(request)
    name = str(data.get("name", "")).strip()
    if not name:
        return JsonResponse({"error": "name is required"}, status=400)
    try:
        quantity = int(data.get("quantity", 0))
    except (TypeError, ValueError):
        return JsonResponse({"error": "quantity must be an integer"}, status=400)
    item = Item.objects.create(name=name[:100], quantity=quantity)
    return JsonResponse(item.as_dict(), status=201)


@require_http_methods(["GET", "PUT", "POST", "DELETE"])
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = Item.objects.filter(pk=item_id).first()
    if item is None:
        return JsonResponse({"error": "not found"}, status=404)
    if request.method == "GET":
        return JsonResponse(item.as_dict())
    if request.method == "DELETE":
        item.delete()
        return HttpResponse(status=204)
    data = _payload(request)
    if "quantity" in data:
        try:
            item.quantity = int(data["quantity"])
        except (TypeError, ValueError):
            return JsonResponse({"error": "quantity must be an integer"}, status=400)
    else:
        item.quantity += 1
    item.save()
    return JsonResponse(item.as_dict())


@require_GET
def status(request: HttpRequest, code: int) -> HttpResponse:
    """Answers with the status asked for (200-599)."""
    if not 200 <= code <= 599:
        return JsonResponse({"error": "code must be 200-599"}, status=400)
    return JsonResponse({"status": code}, status=code)


@require_GET
def boom(request: HttpRequest) -> HttpResponse:
    raise DemoError("demo failure on purpose")


@require_POST
def transactions(request: HttpRequest) -> JsonResponse:
    """One database transaction that commits, or rolls back with ?outcome=rollback."""
    outcome = request.GET.get("outcome", "commit")
    if outcome not in {"commit", "rollback"}:
        return JsonResponse({"error": "outcome is commit or rollback"}, status=400)
    try:
        with transaction.atomic():
            TaskRun.objects.create(task="transaction", result=outcome)
            Item.objects.filter(pk__in=Item.objects.order_by("id").values("pk")[:1]).update(
                quantity=0
            )
            if outcome == "rollback":
                raise DatabaseError("rolled back on purpose")
    except DatabaseError:
        return JsonResponse({"outcome": "rolled back"})
    return JsonResponse({"outcome": "committed"})


@require_POST
def enqueue(request: HttpRequest) -> JsonResponse:
    """Enqueues Celery tasks: ?task=add|record|slow|fail."""
    from . import tasks

    kind = request.GET.get("task", "add")
    if kind == "add":
        result = tasks.add.delay(2, 3)
    elif kind == "record":
        result = tasks.record_run.delay("from-web", 0.05)
    elif kind == "slow":
        result = tasks.slow.delay(1.0)
    elif kind == "fail":
        result = tasks.flaky.delay(True)
    else:
        return JsonResponse({"error": "task is add, record, slow or fail"}, status=400)
    return JsonResponse({"task_id": result.id, "task": kind}, status=202)
