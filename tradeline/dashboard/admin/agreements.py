"""The Tradeline User Agreement in the admin: published versions (read-only once published) and a
form that publishes a new version (agreements.services.agreement_publish); acceptances read-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from tradeline.agreements.models import BODY_MAX, TITLE_MAX, AgreementAcceptance, AgreementVersion
from tradeline.agreements.selectors import agreement_current
from tradeline.agreements.services import agreement_publish
from tradeline.core.errors import ApplicationError
from tradeline.dashboard.admin_base import ReadOnlyAdmin, can_write


class PublishForm(forms.ModelForm):
    title = forms.CharField(max_length=TITLE_MAX)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "cols": 100}), max_length=BODY_MAX,
                           help_text="Publishing makes this the version every new checkout must accept. "
                                     "Published versions can never be edited.")

    class Meta:
        model = AgreementVersion
        fields = ("title", "body")


@admin.register(AgreementVersion)
class AgreementVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "title", "text_sha256", "published_by", "created_at")
    readonly_fields = ("version", "title", "body", "text_sha256", "published_by", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return can_write(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return PublishForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("title", "body") if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def add_view(self, request, form_url="", extra_context=None):
        if not can_write(request):
            raise PermissionDenied
        current = agreement_current()
        if request.method == "GET" and current is not None and "title" not in request.GET:
            # Start from the current text, so an edit is a small change to review.
            request.GET = request.GET.copy()
            request.GET.update({"title": current.title, "body": current.body})
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # The one writer of versions; the generic save never runs.
        obj.pk = agreement_publish(title=form.cleaned_data["title"], body=form.cleaned_data["body"],
                                   admin=request.user).pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:agreements_agreementversion_add"))

    def log_addition(self, request, obj, message):
        return None  # the audit log has the publication (agreement.published)


@admin.register(AgreementAcceptance)
class AgreementAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("order", "version", "accepted_at", "email", "client_ip", "accepted_by", "stripe_consent")
    search_fields = ("order__order_number", "email", "client_ip")
    list_select_related = ("order", "accepted_by")
