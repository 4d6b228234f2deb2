"""Lets several Nova processes share SQLite files: oslo.db starts transactions with a deferred
BEGIN, and SQLite refuses a lock upgrade at once ("database is locked") instead of waiting.
BEGIN IMMEDIATE takes the write lock up front so the busy timeout applies. Loaded only by the
test Nova's processes (it is on their PYTHONPATH)."""
try:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool
except Exception:  # sqlalchemy missing: nothing to adjust
    pass
else:
    def _begin_immediate(conn, cursor, statement, parameters, context, executemany):
        if statement == 'BEGIN' and conn.dialect.name == 'sqlite':
            statement = 'BEGIN IMMEDIATE'
        return statement, parameters

    def _busy_timeout(dbapi_con, record):
        if type(dbapi_con).__module__.startswith('sqlite3'):
            dbapi_con.execute('PRAGMA busy_timeout = 60000')

    event.listen(Engine, 'before_cursor_execute', _begin_immediate, retval=True)
    event.listen(Pool, 'connect', _busy_timeout)
