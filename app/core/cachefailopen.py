"""The shared cache fails open: with Redis away, a read is a miss (the value is computed from the
database, as on a cold start), a write is skipped and the renewal lock is this process's own."""

import logging
import threading

from dogpile.cache.api import NO_VALUE
from dogpile.cache.proxy import ProxyBackend

from app.core.outbox import REDIS_ERRORS

log = logging.getLogger(__name__)


class _FailOpenMutex:
    """The distributed lock, or a local one while Redis does not answer."""

    def __init__(self, mutex):
        self.mutex, self.local, self.held_locally = mutex, threading.Lock(), False

    def acquire(self, wait=True):
        try:
            return self.mutex.acquire(wait)
        except REDIS_ERRORS:
            self.held_locally = self.local.acquire(wait)
            return self.held_locally

    def release(self):
        if self.held_locally:
            self.held_locally = False
            self.local.release()
            return
        try:
            self.mutex.release()
        except REDIS_ERRORS:
            pass

    def locked(self):
        try:
            return self.mutex.locked()
        except REDIS_ERRORS:
            return self.local.locked()


def _missed(n=None):
    return NO_VALUE if n is None else [NO_VALUE] * n


class FailOpen(ProxyBackend):
    """Each call goes to Redis; a Redis that does not answer reads as a miss and writes
    nothing (dogpile calls the `_serialized` forms for Redis, the plain ones otherwise)."""

    def _try(self, call, *args, missed=None):
        try:
            return call(*args)
        except REDIS_ERRORS:
            log.warning("cache unavailable: computing afresh")
            return missed

    def get(self, key):
        return self._try(self.proxied.get, key, missed=NO_VALUE)

    def get_serialized(self, key):
        return self._try(self.proxied.get_serialized, key, missed=NO_VALUE)

    def get_multi(self, keys):
        return self._try(self.proxied.get_multi, keys, missed=_missed(len(keys)))

    def get_serialized_multi(self, keys):
        return self._try(self.proxied.get_serialized_multi, keys, missed=_missed(len(keys)))

    def set(self, key, value):
        self._try(self.proxied.set, key, value)

    def set_serialized(self, key, value):
        self._try(self.proxied.set_serialized, key, value)

    def set_multi(self, mapping):
        self._try(self.proxied.set_multi, mapping)

    def set_serialized_multi(self, mapping):
        self._try(self.proxied.set_serialized_multi, mapping)

    def delete(self, key):
        self._try(self.proxied.delete, key)

    def delete_multi(self, keys):
        self._try(self.proxied.delete_multi, keys)

    def get_mutex(self, key):
        mutex = self.proxied.get_mutex(key)
        return _FailOpenMutex(mutex) if mutex is not None else None
