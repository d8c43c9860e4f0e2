"""Property-based requests generated from the OpenAPI schema: no 500s, answers match the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from avatar_site.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def token(transactional_db, django_user_model):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=django_user_model.objects.create_user("fuzzer")).key


@pytest.mark.usefixtures("double_engines")
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_breaks_the_api(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
