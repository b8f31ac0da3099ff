"""Sessions for requests: joined to the request's transaction, knowing the
request's user.

``config.include('clio')`` gives every request a ``request.dbsession``
made here (unless the application has its own).  Each one comes from the
session factory (the application's, declared with
``config.set_clio_session_factory``, or one over an engine made from the
``sqlalchemy.*`` settings), is registered with ``zope.sqlalchemy`` on
``request.tm`` so that pyramid_tm commits or aborts it with the request, and
carries in its ``info`` what the engine needs to know about the request:

``clio.userid``
    a zero-argument callable answering ``request.authenticated_userid``
    (``'unknown'`` when anonymous);
``clio.registry``
    the request's registry: adapters are looked up and events sent there;
``clio.request``
    the request itself, put on the events.

Nothing is kept in global state: two requests in two threads each have
their own session, user and registry.
"""

from __future__ import annotations

import sqlalchemy as sa
import zope.sqlalchemy
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.attributes import instance_state

from clio.events import REQUEST_KEY
from clio.model import REGISTRY_KEY
from clio.userid import SESSION_KEY as USERID_KEY
from clio.userid import UNKNOWN_USERID

def mark_written(session) -> None:
    """Tell zope.sqlalchemy, when it manages ``session``, that clio wrote
    through Core statements (which its listeners do not see), so that the
    transaction commits instead of rolling back as a read-only one."""
    from zope.sqlalchemy.datamanager import _SESSION_STATE, mark_changed

    if session in _SESSION_STATE:
        mark_changed(session)


def register_written(session, inserted=(), updated=()) -> None:
    """Tell ``session`` what clio wrote behind its unit of work in the
    current transaction: the rows of ``inserted`` were inserted, those of
    ``updated`` changed.  A rollback then treats them as it treats what the
    unit of work flushed: the inserted objects leave the session
    (transient again), the updated ones are expired, a savepoint's
    rollback included.

    clio inserts new versions with its own ``INSERT ... RETURNING`` and
    joins them as loaded objects, and writes bookkeeping with its own
    ``UPDATE`` and ``set_committed_value``.  Unregistered, a rollback would
    leave objects for rows that no longer exist in the identity map (and
    on SQLite, which hands the same ids out again, the next copy could not
    join), and a savepoint's rollback, which expires only what it knows
    changed, would leave the rolled-back statuses in memory.  The unit of
    work records what it flushed in the innermost transaction's ``_new``
    and ``_dirty`` (``Session._register_altered``), which a savepoint's
    commit hands to its parent and a rollback undoes; SQLAlchemy has no
    public call for it, so this does the same.
    """
    transaction = session._transaction
    if transaction is None:
        return
    for obj in inserted:
        transaction._new[instance_state(obj)] = True
    if session.in_nested_transaction():
        # Only a savepoint's rollback expires no more than it knows
        # changed; the whole transaction's rollback expires everything.
        for obj in updated:
            transaction._dirty[instance_state(obj)] = True


def inserted_here(session, obj) -> bool:
    """Whether ``session`` inserted ``obj``'s row in its current
    transaction (a savepoint's included), so that it is not committed yet.

    No other transaction can see, lock or change such a row, nor hang rows
    of its own under it (their foreign key check waits for the commit):
    what the session holds of it is what the database holds, as the unit
    of work itself assumes.  A transition needs no lock read for it.  The
    unit of work records the rows it inserted in each transaction's
    ``_new`` (see :func:`register_written`), which a savepoint's commit
    hands to its parent and a commit or rollback empties; SQLAlchemy has
    no public call for it.
    """
    state = instance_state(obj)
    transaction = session._transaction
    while transaction is not None:
        if state in transaction._new:
            return True
        transaction = transaction._parent
    return False


#: The database used when the settings name none.
DEFAULT_URL = "sqlite:///clio.sqlite"
#: Registry key of the session factory used by ``request.dbsession``.
FACTORY_KEY = "clio.session_factory"


def get_engine(settings: dict, prefix: str = "sqlalchemy.") -> sa.Engine:
    """An engine from the ``sqlalchemy.*`` settings (``sqlalchemy.url``
    defaults to ``sqlite:///clio.sqlite``)."""
    options = dict(settings)
    options.setdefault(prefix + "url", DEFAULT_URL)
    return sa.engine_from_config(options, prefix)


def get_session_factory(engine: sa.Engine) -> sessionmaker:
    return sessionmaker(bind=engine)


def request_userid(request) -> str:
    """The acting user of a request: ``authenticated_userid`` or
    ``'unknown'``."""
    userid = request.authenticated_userid
    return UNKNOWN_USERID if userid is None else str(userid)


def prepare_session(session, request):
    """Tell ``session`` about ``request``: its user, registry and itself.

    Applications that make their own ``request.dbsession`` call this on it
    (``get_tm_session`` does) so that versions changed in their views carry
    the request's user and events reach the request's subscribers.
    """
    session.info[USERID_KEY] = lambda: request_userid(request)
    session.info[REGISTRY_KEY] = request.registry
    session.info[REQUEST_KEY] = request
    return session


def get_tm_session(session_factory, transaction_manager, request=None):
    """A session from ``session_factory`` that commits or aborts with
    ``transaction_manager`` (pyramid_tm's ``request.tm``), prepared for
    ``request`` when one is given."""
    session = session_factory()
    zope.sqlalchemy.register(session, transaction_manager=transaction_manager)
    if request is not None:
        prepare_session(session, request)
    return session


def request_dbsession(request):
    """``request.dbsession``: a session for this request (reified)."""
    factory = request.registry[FACTORY_KEY]
    return get_tm_session(factory, request.tm, request)
