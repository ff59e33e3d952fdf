"""The official `invoiced` Python client (3.0.0) against the Invoiced sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import invoiced
import pytest

from gateway.vendors.invoiced import sandbox as invoiced_sandbox
from tests.servers import serve_in_thread


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with serve_in_thread(invoiced_sandbox.create_app()) as url:
        yield url


def client_for(url: str, key: str = invoiced_sandbox.API_KEY) -> invoiced.Client:
    client = invoiced.Client(key)
    client.api_url = url
    return client


def test_official_client_create_retrieve_save_list_delete(sandbox_url: str) -> None:
    client = client_for(sandbox_url)
    task = client.Task.create(
        customer_id=481594, name="Call customer", action="phone", due_date=1571288400, user_id=1976
    )
    assert task.id and task.name == "Call customer" and task.complete is False

    fetched = client.Task.retrieve(task.id)
    assert fetched.due_date == 1571288400
    fetched.due_date = 1587366000
    assert fetched.save()
    assert client.Task.retrieve(task.id).due_date == 1587366000

    seen = []
    tasks, metadata = client.Task.list(per_page=10)
    assert metadata.total_count == 37
    seen.extend(tasks)
    while "next" in metadata.links:
        response = client.request("GET", metadata.links["next"].replace(sandbox_url, ""))
        seen.extend(response["body"])
        metadata = invoiced.operations.List(
            response["headers"]["link"], response["headers"]["x-total-count"]
        )
    assert len(seen) == 37

    assert fetched.delete()
    with pytest.raises(invoiced.errors.InvalidRequestError):
        client.Task.retrieve(task.id)


def test_official_client_sees_auth_errors(sandbox_url: str) -> None:
    with pytest.raises(invoiced.errors.AuthenticationError):
        client_for(sandbox_url, key="wrong").Task.list()


def test_official_client_sees_validation_errors(sandbox_url: str) -> None:
    client = client_for(sandbox_url)
    with pytest.raises(invoiced.errors.InvalidRequestError) as caught:
        client.Task.create(name="No action or due date")
    assert "missing" in str(caught.value)
    with pytest.raises(invoiced.errors.InvalidRequestError):
        client.Task.list(filter={"colour": "blue"})
