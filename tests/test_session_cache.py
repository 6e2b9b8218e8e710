"""A page's base cost: the session and the user with their roles come from the shared cache, not the
database, and any change to the user, their roles or the tree is seen on the very next request."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.access import SYSTEM, Role
from gongzhi.orgs import actions as org_actions


def _base_queries(client, path="/registry/"):
    """The queries a page ran to load the session and the user (tables django_session, accounts_*)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    tables = [q["sql"] for q in ctx.captured_queries
              if "django_session" in q["sql"] or "accounts_user" in q["sql"] or "accounts_roleassignment" in q["sql"]]
    return response, tables


def test_second_page_loads_session_and_user_without_a_query(tree, client):
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    first, _ = _base_queries(client)
    assert first.status_code in (200, 302)
    second, queries = _base_queries(client)
    assert second.status_code == first.status_code
    assert queries == []


def test_a_revoked_role_is_seen_on_the_next_request(tree, client):
    user = tree.users[Role.COMMUNITY_STAFF]
    client.force_login(user)
    node_page = f"/registry/node/{tree.comm_a.pk}/"
    assert client.get(node_page).status_code == 200
    assignment = RoleAssignment.objects.get(user=user)
    assignment.is_active = False
    assignment.save(update_fields=["is_active"])
    assert client.get(node_page).status_code == 404


def test_a_tree_move_reaches_the_cached_roles(tree, client, django_capture_on_commit_callbacks):
    """The grid worker's grid moves to another community: the cached role follows its new path."""
    worker = tree.users[Role.GRID_WORKER]
    client.force_login(worker)
    grid_page = f"/registry/node/{tree.grid_a1.pk}/"
    assert client.get(grid_page).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the move tells the rest after its commit
        org_actions.orgnode_move(node=tree.grid_a1, new_parent=tree.comm_b, by=SYSTEM, reason="区划调整")
    # Still his grid, now under the other community: the page answers, and his scope is the new path.
    assert client.get(grid_page).status_code == 200
    response = client.get(f"/registry/node/{tree.comm_b.pk}/")
    assert response.status_code == 404  # the community itself stays out of his scope


def test_logout_ends_the_session_everywhere(tree, client):
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    assert client.get("/registry/").status_code in (200, 302)
    cookie = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    from django.test import Client

    other = Client()
    other.cookies["sessionid"] = cookie
    response = other.get("/registry/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
