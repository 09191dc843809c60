"""The token signers are built once per secret and purpose (issue 19, item 5: building one per
call showed in the ask's profile), and a signer of one secret never reads another's tokens."""

from __future__ import annotations

from app.services.tokens import read_visitor_token, serializer, visitor_token


def test_one_signer_per_secret_and_purpose(app):
    visitor = serializer("visitor")
    assert serializer("visitor") is visitor
    assert serializer("ask") is not visitor
    token = visitor_token("acme", "v1")

    secret = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret"
    assert serializer("visitor") is not visitor
    assert read_visitor_token("acme", token) is None
    assert read_visitor_token("acme", visitor_token("acme", "v2")) == "v2"

    app.config["SECRET_KEY"] = secret
    assert serializer("visitor") is visitor
    assert read_visitor_token("acme", token) == "v1"
