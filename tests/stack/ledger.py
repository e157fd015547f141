"""The store ledger: the database's own record of every store, for checks that must not trust the logs.

A worker logs `run_graded` only after its commit returns, so a commit whose acknowledgement is lost in an outage
(the server committed, the client saw the connection drop) is a store with no log line. The ledger is a trigger the
test installs in its own fresh database: each UPDATE that makes a run `graded` (or stores it again: a new
`finished_at` on a graded run) inserts a row in the same transaction, so the row exists exactly when the store
committed, whatever the worker heard back.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import Engine, text

LEDGER_DDL = [
    """CREATE TABLE test_store_ledger (
           id bigserial PRIMARY KEY, run_id varchar(32) NOT NULL, attempt integer NOT NULL, worker varchar(255))""",
    """CREATE FUNCTION test_store_ledger_record() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           INSERT INTO test_store_ledger (run_id, attempt, worker) VALUES (NEW.id, NEW.attempt, NEW.worker);
           RETURN NEW;
       END $$""",
    """CREATE TRIGGER test_store_ledger AFTER UPDATE ON grading_runs FOR EACH ROW
       WHEN (NEW.status = 'graded' AND (OLD.status IS DISTINCT FROM 'graded'
                                        OR NEW.finished_at IS DISTINCT FROM OLD.finished_at))
       EXECUTE FUNCTION test_store_ledger_record()""",
]


def install_ledger(engine: Engine) -> None:
    """Add the ledger to a migrated Postgres database that only this test uses."""
    with engine.begin() as connection:
        for statement in LEDGER_DDL:
            connection.execute(text(statement))


def committed_stores(engine: Engine) -> dict[str, list[int]]:
    """Run id -> the attempts whose store committed, in commit order."""
    stores: dict[str, list[int]] = defaultdict(list)
    with engine.connect() as connection:
        for run_id, attempt in connection.execute(text("SELECT run_id, attempt FROM test_store_ledger ORDER BY id")):
            stores[run_id].append(attempt)
    return dict(stores)


def stored_once_problems(engine: Engine, attempts: Mapping[str, int],
                         logged: Iterable[Mapping[str, object]]) -> list[str]:
    """What contradicts "each run was stored exactly once, by the attempt the run row shows".

    `attempts` is each run's attempt as stored; `logged` the `run_graded` events. A missing log line is no
    problem (a lost acknowledgement), but a logged store the database never committed is.
    """
    stores = committed_stores(engine)
    problems = [f"run {run_id} stored {len(stores.get(run_id, []))} times" for run_id in attempts
                if len(stores.get(run_id, [])) != 1]
    problems += [f"run {run_id} stored by attempt {stores[run_id][0]} but shows attempt {attempt}"
                 for run_id, attempt in attempts.items() if len(stores.get(run_id, [])) == 1
                 and stores[run_id][0] != attempt]
    problems += [f"run {run_id} stored but not expected" for run_id in stores if run_id not in attempts]
    problems += [f"run {event['run_id']} logged a store by attempt {event['attempt']} the database never committed"
                 for event in logged if event.get("attempt") not in stores.get(str(event["run_id"]), [])]
    return problems
