"""The realtime processes' Redis client manager, with one addition: closing a `session:<id>`
room disconnects its sockets, in whichever process holds them. That is how logging out (or a
password change) ends the live connections of that browser: the web process publishes a plain
`close_room` through the message queue, the standard message every node already listens for."""

import socketio


class Manager(socketio.RedisManager):
    def _handle_close_room(self, message):
        room, namespace = message.get("room") or "", message.get("namespace") or "/"
        if room.startswith("session:"):
            for sid, _eio_sid in list(self.get_participants(namespace, room)):
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        super()._handle_close_room(message)


class Publisher(socketio.RedisManager):
    """The web's and workers' write-only side. The stock manager logs a publish Redis refused
    and drops it; this one raises, so the caller keeps the signal in the outbox."""

    def _publish(self, data):
        for attempt in (1, 2):  # a connection Redis closed while idle deserves one more try
            try:
                if not self.connected:
                    self._redis_connect()
                return self.redis.publish(self.channel, self.json.dumps(data))
            except Exception:
                self.connected = False
                if attempt == 2:
                    raise
