"""A generator run in a child process, its items handed over in order through a pipe.

`archive import` reads and converts a file (ijson, the importer, serialising each post: pure
Python) while it writes the previous batches to the database, and `archive export` reads and
formats rows while it writes the CSV; on two cores that overlaps the two halves of the work.
Memory stays bounded: the child makes at most AHEAD items before the parent has taken them.
"""
from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
import queue
import sys
import threading
from typing import Callable, Iterator

from ..errors import ArchiveError, ImportFormatError

_ITEM, _END, _ERROR = 0, 1, 2
AHEAD = 8  # items made before the parent takes them: import batches of ~1.3 MB each


class iterate_in_child:
    """The items of function(*args), made in a child process that starts at once (so it reads
    while the caller still prepares, e.g. opens the database). function is a module-level
    generator function; args, items and errors must pickle. An error in the child is raised
    here (an ImportFormatError with its file and record). close() (or leaving a `with` block, or
    the end of the items, or dropping the object) stops and reaps the child."""

    def __init__(self, function: Callable[..., Iterator], *args):
        context = _context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(receiver, sender, function, args), daemon=True)
        process.start()
        sender.close()  # so that recv() sees EOF if the child dies
        self._receiver, self._process = receiver, process
        self._items = _receive(receiver, process)  # refers to the pipe and process, not to self: no cycle

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._items)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        self._items.close()  # runs _receive's cleanup only if it had started
        _stop(self._receiver, self._process)


def _receive(receiver, process) -> Iterator:
    try:
        while True:
            try:
                kind, value = _loads(receiver.recv_bytes())
            except EOFError:
                process.join()
                raise ArchiveError(f"the process reading the import stopped unexpectedly (exit status "
                                   f"{process.exitcode})") from None
            if kind == _ITEM:
                yield value
            elif kind == _END:
                return
            else:
                raise _restored(value)
    finally:
        _stop(receiver, process)


def _stop(receiver, process) -> None:
    receiver.close()  # closing twice is harmless
    if process.is_alive():
        process.terminate()
    process.join()


def _context():
    # fork starts at once and needs nothing pickled but the items; it is only safe on Linux and in
    # a process with no other threads (a lock held by another thread would stay locked in the child).
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _child(receiver, sender, function, args) -> None:
    receiver.close()  # the parent's end: only the parent holds it, so a write fails once the parent lets go
    # Items go out through a bounded queue and a sending thread, so the child runs up to AHEAD
    # items ahead of the parent (e.g. while the parent still opens the database) instead of
    # waiting on every item; the thread waits in the pipe's write with the GIL released.
    outbox: queue.Queue = queue.Queue(maxsize=AHEAD)
    sending = threading.Thread(target=_send_all, args=(sender, outbox), daemon=True)
    sending.start()
    try:
        for item in function(*args):
            outbox.put(_dumps((_ITEM, item)))
        outbox.put(_dumps((_END, None)))
    except BaseException as error:
        outbox.put(_dumps((_ERROR, _portable(error))))
    finally:
        outbox.put(None)
        sending.join()
        sender.close()


# What crosses the pipe: marshal for plain values (the import's batches: tuples of str, None and
# bool; the parent reads them in two thirds of pickle's time, and the child writes them in half),
# pickle for the rest (notes, errors). Both ends are the same interpreter, so marshal's format,
# which may change between Python versions, is the same at both.
_MARSHAL, _PICKLE = b"M", b"P"


def _dumps(message: tuple) -> bytes:
    try:
        return _MARSHAL + marshal.dumps(message)
    except ValueError:  # marshal refuses other types
        return _PICKLE + pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def _loads(data: bytes) -> tuple:
    if data[:1] == _MARSHAL:
        return marshal.loads(memoryview(data)[1:])
    return pickle.loads(memoryview(data)[1:])


def _send_all(sender, outbox: queue.Queue) -> None:
    while (data := outbox.get()) is not None:
        try:
            sender.send_bytes(data)
        except OSError:  # the parent stopped listening: nothing left to do
            os._exit(0)


def _portable(error: BaseException):
    if isinstance(error, ImportFormatError):  # its constructor does not take its own args back
        return ("ImportFormatError", error.file, error.detail, error.record)
    try:
        pickle.loads(pickle.dumps(error))  # some exceptions pickle but cannot be rebuilt
        return error
    except Exception:
        return ArchiveError(f"{type(error).__name__}: {error}")


def _restored(value) -> BaseException:
    if isinstance(value, tuple) and value and value[0] == "ImportFormatError":
        _, file, detail, record = value
        return ImportFormatError(file, detail, record=record)
    return value
