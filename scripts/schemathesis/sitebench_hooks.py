"""schemathesis hooks for what the site's OpenAPI document cannot say (loaded by
scripts/schemathesis.sh through SCHEMATHESIS_HOOKS).

The sign-up rule "the password must differ from the username, ignoring case" (docs/SITE.md
4.2; core/src/users.rs, parse_sign_up) relates two fields, and JSON Schema has no keyword that
compares one property with another. The document states the rule in words (the SignUp schema
and the 422 response of signUp), but a generator that follows only the keywords can draw a
schema-valid body that breaks it, e.g. username=00000000&password=00000000, which the site
rightly refuses with 422 "must not be the username". Such a body is not valid data, so the
positive checks must not see it: it is dropped here for signUp only, as both positive and
negative tests would otherwise test the rule the conformance suite already covers.
"""

import schemathesis


def breaks_cross_field_rule(body):
    """True for a sign-up body whose password equals its username ignoring case."""
    if not isinstance(body, dict):
        return False
    username, password = body.get("username"), body.get("password")
    return (
        isinstance(username, str)
        and isinstance(password, str)
        and username.lower() == password.lower()
    )


@schemathesis.hook
def filter_body(ctx, body):
    operation = getattr(ctx, "operation", None)
    if operation is None or getattr(operation, "definition", None) is None:
        return True
    if operation.method.upper() == "POST" and operation.path == "/users":
        return not breaks_cross_field_rule(body)
    return True
