"""The storage contract, run against MemoryDatabase; and what the memory store may import."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from adapters.memory import IntegrityError, MemoryDatabase
from chatcore.default_faqs import DEFAULT_FAQS
from chatcore.ports import StorageUnavailable, UnitOfWorkFactory
from support.contracts.instance import InstanceContract
from support.contracts.storage import (
    BOT,
    T0,
    StorageContract,
    append,
    customer,
    make_conversation,
)


class TestMemoryStorage(StorageContract, InstanceContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        # Seeded like a fresh SQLite file, which starts with the default quick questions.
        factory: UnitOfWorkFactory = MemoryDatabase(faqs=DEFAULT_FAQS).uow
        return factory

    @pytest.fixture
    def integrity_error(self) -> type[Exception]:
        return IntegrityError


def test_a_rolled_back_message_leaves_no_trace_in_the_indexes() -> None:
    database = MemoryDatabase()
    with database.uow() as uow:
        uow.sessions.add("s", created_at=T0)
        chat = make_conversation("s")
        uow.conversations.add(chat)
        uow.commit()
    question = append(chat, customer(chat), client_message_id="k")
    answer = append(chat, BOT, "Hello!", reply_to=question.id)

    def fail_midway() -> None:
        with database.uow() as uow:
            uow.messages.add(question)
            uow.messages.add(answer)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    assert database.tables.messages == {}
    assert database.tables.threads == {}
    assert database.tables.replies == {}
    assert database.tables.client_keys == {}
    with database.uow() as uow:  # the same seq and key are free again
        uow.messages.add(question)
        uow.commit()
    with database.uow(write=False) as uow:
        assert uow.messages.after(chat.id, after_seq=0, limit=5) == [question]


def test_a_read_unit_refuses_to_write_and_units_do_not_nest() -> None:
    database = MemoryDatabase()
    with database.uow(write=False) as uow, pytest.raises(RuntimeError, match="read unit"):
        uow.sessions.add("s", created_at=T0)
    with database.uow() as outer:
        with pytest.raises(RuntimeError, match="do not nest"):
            database.uow(write=False).__enter__()
        outer.commit()
        with pytest.raises(RuntimeError, match="not open for writing"):
            outer.sessions.add("late", created_at=T0)


def test_threads_appending_to_one_conversation_get_dense_seqs() -> None:
    database = MemoryDatabase()
    with database.uow() as uow:
        uow.sessions.add("s", created_at=T0)
        uow.conversations.add(make_conversation("s", conversation_id="c"))
        uow.commit()

    def append_some() -> None:
        for _ in range(50):
            with database.uow() as uow:
                chat = uow.conversations.get("c")
                assert chat is not None
                uow.messages.add(append(chat, customer(chat)))
                uow.conversations.save(chat)
                uow.commit()

    threads = [threading.Thread(target=append_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.uow(write=False) as uow:
        stored = uow.messages.after("c", after_seq=0, limit=1000)
    assert [m.seq for m in stored] == list(range(1, 401))


def test_a_unit_that_waits_past_its_patience_is_told_to_retry() -> None:
    database = MemoryDatabase(patience=0.05)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.uow(write=False):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with pytest.raises(StorageUnavailable), database.uow():
            pass
    finally:
        release.set()
        holder.join()
    with database.uow() as uow:  # and once it is free, units go through again
        uow.sessions.add("s", created_at=T0)
        uow.commit()


PROBE = """
import json, sys
before = set(sys.modules)
import adapters.memory
print(json.dumps({n: getattr(m, "__file__", None) for n, m in sys.modules.items()
                  if n not in before}))
"""


def test_the_memory_store_loads_only_the_standard_library_and_chatcore() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded: dict[str, str | None] = json.loads(done.stdout)
    assert "adapters.memory.unit_of_work" in loaded
    ours = ("adapters", "chatcore")
    foreign = sorted(
        name
        for name, file in loaded.items()
        if name.split(".")[0] not in ours
        and file is not None
        and ("site-packages" in file or "dist-packages" in file)
    )
    assert foreign == []
    assert not {"sqlite3", "sqlite_utils", "starlette", "uvicorn"} & set(loaded)
