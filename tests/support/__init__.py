"""What tests share. Tests import it as ``support`` (pytest's ``pythonpath``); no test
module imports another, and nothing else goes on ``sys.path``.

Servers, three ways, each where its point is:

- in process, no socket (``servers.in_process``): contract tests of an app where the
  socket is not the point;
- ``servers.running(settings)`` (the ``make_server`` / ``live_server`` fixtures):
  chatcore built by ``build`` and served by uvicorn with ``uvicorn_config``, exactly as
  ``chatcore serve`` does, on a real loopback socket, in a thread of the test process.
  Most adapter, security and browser tests use it: they test HTTP and WebSocket
  behaviour on real sockets, and some read the server's events or database directly;
- ``serve_process.chatcore_serve``: a real ``chatcore serve`` process, where the process
  is the point: signals and SIGKILL, restarts, two instances over PostgreSQL and Redis
  (``two_instances``, ``scale_out_instance``), nginx in front, the logs it writes.

Why threads for the middle one: measured here, an in-thread server starts and stops in
~0.4 s, a ``chatcore serve`` process in ~2.7 s; some 400 tests start one, so processes
would add a quarter of an hour to ``make test`` for a code path that is the same.

People and actions, one vocabulary (same verb, same meaning, in every module):

- ``usecase_people``: through the use cases (domain tests); ``rest``: over HTTP;
  ``rest_async``: over HTTP from async realtime tests; ``browser_people``: in Chromium.
- ``Staff``: a logged-in agent or admin. ``Chat``: a customer's conversation as the
  customer knows it (``session_id``, ``conversation_id``).
- ``first_admin``, ``hire`` (an admin registers an agent), ``go_online``,
  ``set_presence``; ``start_chat`` (answers a ``Chat``), ``say`` (the customer says),
  ``escalate`` (the customer asks for a human), ``messages`` (what the customer reads);
  ``agent_says``, ``close_chat`` for agents over REST.
- ``start_conversation`` (rest, rest_async) answers what the start endpoint does:
  ``(session_id, conversation)``, for tests that look at the conversation itself.
- ``new_token``: one more login, a fresh access token.

Other modules: ``ws`` (WebSocket client), ``ws_raw`` (a hand-made one that misbehaves),
``http_contract`` (resource keys, the error envelope), ``contracts/`` (storage and bus
contracts, subclassed by test modules), ``postgres``, ``sqlite``, ``redis_server``,
``races`` (the escalation races every store runs), ``faults``, ``fuzz_world``, ``nginx``,
``chat_model``; ``fakes`` (the domain tests' context: the real in-memory store, fakes
only at the other ports) over ``watched_store`` (that store, watched at its commits).
"""
