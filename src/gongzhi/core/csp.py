"""The Content Security Policy header on every response (docs/deploy.md, "Content Security Policy").

Django 6.0 has this in core (``SECURE_CSP`` and ``django.middleware.csp.ContentSecurityPolicyMiddleware``);
Django 5.2 LTS does not, so this is the same setting read by a few lines here, to be swapped for Django's own
middleware on the upgrade. The policy is fixed (no inline script anywhere, so no nonces): it is built once.
"""

from django.conf import settings

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"


def build_policy(directives: dict) -> str:
    """``{"script-src": ["'self'"], "upgrade-insecure-requests": True}`` -> the header's value."""
    parts = []
    for name, value in directives.items():
        if value is True:
            parts.append(name)
        elif value:
            parts.append(f"{name} {' '.join(value)}" if isinstance(value, (list, tuple)) else f"{name} {value}")
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    """Adds the policy of ``SECURE_CSP`` (and of ``SECURE_CSP_REPORT_ONLY``, when set) to every response,
    error pages included, unless the view set its own header.

    With ``DEBUG`` on, Django's technical error pages (inline style and script) go without it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = build_policy(getattr(settings, "SECURE_CSP", {}) or {})
        self.report_only = build_policy(getattr(settings, "SECURE_CSP_REPORT_ONLY", {}) or {})

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400:
            return response
        if self.policy and HEADER not in response:
            response[HEADER] = self.policy
        if self.report_only and REPORT_ONLY_HEADER not in response:
            response[REPORT_ONLY_HEADER] = self.report_only
        return response
