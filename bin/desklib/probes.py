"""Free ports, URLs, and whether the PostgreSQL or Redis of a URL can be used (TCP first,
then a real login or PING); creating the app's database."""

import socket
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit, urlunsplit

from .base import DeskError

PORT_PROBE_COUNT = 200  # ports tried upward from the first one
CONNECT_TIMEOUT_SECONDS = 1.0
PG_SCHEMES = ("postgres", "postgresql", "pgsql")


# --------------------------------------------------------------------------- ports, URLs


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: a port with only TIME_WAIT connections left is free to listen on.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(first: int, skip: Sequence[int] = ()) -> int:
    for port in range(first, first + PORT_PROBE_COUNT):
        if port not in skip and port_is_free(port):
            return port
    raise DeskError(f"no free TCP port on 127.0.0.1 in {first}..{first + PORT_PROBE_COUNT - 1}")


def tcp_reachable(host: str, port: int, timeout: float = CONNECT_TIMEOUT_SECONDS) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def libpq_url(url: str, database: str | None = None) -> str:
    """`url` as libpq accepts it (it knows no `pgsql://`), optionally for another database."""
    parts = urlsplit(url)
    parts = parts._replace(scheme="postgresql")
    if database is not None:
        parts = parts._replace(path=f"/{database}")
    return urlunsplit(parts)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def redacted(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _port_of(parts: SplitResult, default: int) -> int:
    try:
        return parts.port or default
    except ValueError as error:
        raise DeskError(f"bad port in {redacted(urlunsplit(parts))}") from error


# --------------------------------------------------------------------------- PostgreSQL checks


def postgres_problem(url: str) -> str | None:
    """Why the server of `url` cannot be used (None: it can): TCP first, then a real login."""
    parts = urlsplit(url)
    if parts.scheme not in PG_SCHEMES:
        return f"not a PostgreSQL URL (scheme {parts.scheme!r})"
    if parts.hostname and not parts.hostname.startswith("/"):
        port = _port_of(parts, 5432)
        if not tcp_reachable(parts.hostname, port):
            return f"nothing listens on {parts.hostname}:{port}"
    try:
        import psycopg2
    except ImportError:
        return None  # the TCP check is all we can do without the driver
    # The server's `postgres` database first; some hosted servers allow only the app's own.
    databases = ["postgres"] + ([database_name(url)] if database_name(url) else [])
    problem = ""
    for database in databases:
        try:
            connection = psycopg2.connect(libpq_url(url, database), connect_timeout=3)
        except psycopg2.Error as error:
            problem = problem or first_line(error)
            continue
        connection.close()
        return None
    return problem


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


def ensure_database(url: str) -> bool:
    """Create the database of `url` if it does not exist; True if it was created."""
    import psycopg2
    from psycopg2 import errors, sql

    name = database_name(url)
    if not name:
        raise DeskError(f"DATABASE_URL names no database: {redacted(url)}")
    try:
        connection = psycopg2.connect(libpq_url(url, "postgres"), connect_timeout=5)
    except psycopg2.Error as error:
        try:  # some hosted servers let us into our own database only
            psycopg2.connect(libpq_url(url), connect_timeout=5).close()
            return False
        except psycopg2.Error:
            raise DeskError(f"cannot reach database {name}: {first_line(error)}") from error
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except errors.DuplicateDatabase:
        return False  # another desk created it a moment ago
    except psycopg2.Error as error:
        raise DeskError(f"cannot create database {name}: {first_line(error)}") from error
    finally:
        connection.close()


# --------------------------------------------------------------------------- Redis checks


def redis_problem(url: str) -> str | None:
    """Why the Redis of `url` cannot be used (None: it can): TCP first, then PING."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return f"not a Redis URL (scheme {parts.scheme!r})"
    if parts.scheme != "unix":
        host = parts.hostname or "127.0.0.1"
        port = _port_of(parts, 6379)
        if not tcp_reachable(host, port):
            return f"nothing listens on {host}:{port}"
    try:
        import redis
    except ImportError:
        return None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as error:
        return str(error) or repr(error)
    return None


def redis_ping(host: str, port: int) -> bool:
    """A raw PING, used while our own redis-server is starting."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False
