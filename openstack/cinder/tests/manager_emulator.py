"""An in-process HTTP server that answers the VirtMan manager's volume REST API.

It speaks the same wire contract as the Java manager (dev.virtman.manager.http.ApiHandler,
manager.volume.VolumeService, manager.api.Json), for the endpoints the Cinder driver uses:

    POST   /v1/images                 {glanceImageId[, name]}   201 first import, 200 after
    GET    /v1/images
    GET    /v1/volumes
    POST   /v1/volumes                {id, name, image, host, sizeBytes}   201
    GET    /v1/volumes/{id}
    DELETE /v1/volumes/{id}           204, 404 if unknown
    POST   /v1/volumes/{id}/connection  {host, ip, initiator} -> VolumeConnection

Like the manager it checks the bearer token before reading a body, wants
application/json, rejects unknown JSON fields (422), and answers every error
as {"error": "..."} with the manager's status codes (400, 401, 404, 405, 409,
415, 422, 502). It binds 127.0.0.1 on an ephemeral port and records every
request so tests can check what the driver sent.

"Exported" follows the real two-step: a connection places a pending volume on
the connector's host (state creating); the host's agent exports it on a later
heartbeat, emulated as export_delay seconds after placement (None: never,
an agent that is down).
"""

import http.server
import json
import re
import ssl
import threading
import time
import uuid

# TargetNames.HOST_ID: volume ids become part of an iSCSI name.
VOLUME_ID = re.compile(r'[a-z0-9][a-z0-9.-]{0,63}')
SECTOR = 512
IQN_PREFIX = 'iqn.2026-01.dev.virtman:'
CHUNK_SIZE = 64 * 1024

# Record components of the request types: the manager's Json mapper
# rejects any other field.
REGISTER_IMAGE_FIELDS = ('name', 'path', 'glance', 'glanceImageId')
CREATE_VOLUME_FIELDS = ('id', 'name', 'image', 'host', 'sizeBytes')
CONNECTOR_FIELDS = ('host', 'ip', 'initiator')


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Request(object):
    """One request as the emulator received it."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers  # names in lower case
        self.body = body

    def __repr__(self):
        return '%s %s %r' % (self.method, self.path, self.body)


class CannedReply(object):
    """A reply served instead of the emulated one (a failing manager or a proxy).

    Status None: no reply at all, the connection is closed once the request
    was read (a manager that died while handling it).
    """

    def __init__(self, status, body, content_type='application/json',
                 delay=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.delay = delay


class ManagerEmulator(object):
    """The manager's volume API on 127.0.0.1:<ephemeral>; use as a context manager."""

    def __init__(self, token, glance_images=None, hosts=None,
                 export_delay=0.0, tls=None):
        """
        :param token: the bearer token the manager accepts
        :param glance_images: Glance image id -> size in bytes, the images
            "its Glance" (--glance-url) holds
        :param hosts: host id -> agent portal 'ip:port', the registered agents
        :param export_delay: seconds from placement until the host's agent
            reports the LUN exported, or None for never
        :param tls: (certificate chain PEM, key PEM) to serve https://
        """
        self.token = token
        self.glance_images = dict(glance_images or {})
        self.hosts = dict(hosts or {})
        self.export_delay = export_delay
        self.requests = []
        self.images = {}
        self.volumes = {}
        self._glance_imports = {}
        self._canned = []
        self._lock = threading.Lock()
        self.release = threading.Event()
        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                       _handler_for(self))
        self._server.daemon_threads = True
        self._scheme = 'http'
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket,
                                                      server_side=True)
            self._scheme = 'https'
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name='manager-emulator', daemon=True)

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return '%s://%s:%d' % (self._scheme, host, port)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # ------------------------------------------------------------ test hooks

    def answer_next(self, method, path, reply):
        """Serves reply to the next request for method and path (once)."""
        with self._lock:
            self._canned.append((method, path, reply))

    def requests_to(self, method, path):
        with self._lock:
            return [r for r in self.requests
                    if r.method == method and r.path == path]

    # ------------------------------------------------------------ dispatch

    def handle(self, method, path, headers, raw):
        """Returns (status, body bytes or None, content type, extra headers)."""
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        with self._lock:
            self.requests.append(Request(method, path, headers, body))
            for i, (m, p, reply) in enumerate(self._canned):
                if m == method and p == path:
                    del self._canned[i]
                    return reply
        try:
            status, value = self._route(method, path, headers, raw)
        except ApiError as e:
            extra = {}
            if e.status == 401:
                extra['WWW-Authenticate'] = 'Bearer'
            return _json_reply(e.status, {'error': e.message}, extra)
        return _json_reply(status, value)

    def _route(self, method, path, headers, raw):
        self._authenticate(headers)
        seg = [s for s in path.split('?')[0].split('/') if s]
        if len(seg) < 2 or seg[0] != 'v1':
            raise ApiError(404, 'no such endpoint: %s (API is under /v1)' % path)
        with self._lock:
            if seg[1] == 'images' and len(seg) == 2:
                _require_method(method, 'GET', 'POST')
                if method == 'GET':
                    return 200, list(self.images.values())
                return self._import(_parse(headers, raw, REGISTER_IMAGE_FIELDS))
            if seg[1] == 'volumes':
                return self._volumes(method, seg, headers, raw)
        raise ApiError(404, 'no such endpoint: %s' % path)

    def _authenticate(self, headers):
        header = headers.get('authorization')
        if header is None:
            raise ApiError(401, "missing bearer token: send 'Authorization: "
                                "Bearer <token>' (the token is in the "
                                "manager's state directory)")
        presented = (header[len('Bearer '):].strip()
                     if header.lower().startswith('bearer ') else None)
        if presented != self.token:
            raise ApiError(401, 'invalid bearer token')

    # ------------------------------------------------------------ images

    def _import(self, r):
        glance_id = r.get('glanceImageId')
        if glance_id is None:
            raise ApiError(422, 'the emulator imports from Glance only '
                                '(glanceImageId)')
        if r.get('path') is not None or r.get('glance') is not None:
            raise ApiError(422, 'glanceImageId asks the manager to import '
                                'from its Glance; it excludes path and glance')
        if glance_id not in self.glance_images:
            raise ApiError(422, 'Glance at http://glance.invalid:9292 has no '
                                'image %s (or this token may not see it)'
                           % glance_id)
        known = self._glance_imports.get(glance_id)
        if known is not None:
            return 200, self.images[known]
        size = self.glance_images[glance_id]
        image_id = uuid.uuid5(uuid.NAMESPACE_OID, glance_id).hex[:16]
        name = r.get('name') or 'glance-' + glance_id.split('-')[0]
        self.images[image_id] = {
            'id': image_id, 'name': name,
            'path': '/var/lib/virtman/glance/%s.raw' % glance_id,
            'sizeBytes': size, 'chunkSize': CHUNK_SIZE,
            'chunkCount': -(-size // CHUNK_SIZE),
            'manifestDigest': 'sha256:' + image_id * 4,
            'manifestRef': 'manifests/%s' % image_id,
            'sourceIqn': IQN_PREFIX + 'source.' + image_id,
            'registeredAt': '2026-11-26T10:00:00Z', 'hosts': 0,
            'hasBootProfile': False,
            'glance': {'glanceUrl': 'http://glance.invalid:9292',
                       'imageId': glance_id, 'imageName': name,
                       'diskFormat': 'raw', 'osHashAlgo': 'sha512',
                       'osHashValue': 'ab' * 64, 'checksum': 'cd' * 16,
                       'series': name, 'version': 1},
        }
        self._glance_imports[glance_id] = image_id
        return 201, self.images[image_id]

    def _image(self, ref):
        for image in self.images.values():
            if ref in (image['id'], image['name']):
                return image
        raise ApiError(404, "no image with id or name '%s'" % ref)

    # ------------------------------------------------------------ volumes

    def _volumes(self, method, seg, headers, raw):
        if len(seg) == 2:
            _require_method(method, 'GET', 'POST')
            if method == 'GET':
                return 200, [self._view(v) for v in self.volumes.values()]
            return 201, self._create(_parse(headers, raw,
                                            CREATE_VOLUME_FIELDS))
        vid = seg[2]
        if len(seg) == 3:
            _require_method(method, 'GET', 'DELETE')
            v = self._find(vid)
            if method == 'GET':
                return 200, self._view(v)
            if v['state'] == 'pending':
                del self.volumes[vid]
            else:
                v['state'] = 'deleting'
            return 204, None
        if len(seg) == 4 and seg[3] == 'connection':
            _require_method(method, 'POST')
            return 200, self._connect(self._find(vid),
                                      _parse(headers, raw, CONNECTOR_FIELDS))
        raise ApiError(404, 'no such endpoint: /' + '/'.join(seg))

    def _create(self, r):
        blank = not r.get('image')
        vid = r.get('id') or str(uuid.uuid4())
        size = r.get('sizeBytes') or 0
        if not VOLUME_ID.fullmatch(vid):
            raise ApiError(422, "volume id '%s' must match %s (it becomes "
                                "part of an iSCSI name)"
                           % (vid, VOLUME_ID.pattern))
        if blank and size <= 0:
            raise ApiError(422, 'a blank volume (no image) needs a size')
        image = None if blank else self._image(r['image'])
        image_size = 0 if blank else -(-image['sizeBytes'] // SECTOR) * SECTOR
        size = size or image_size
        if size < image_size:
            raise ApiError(422, 'volume size %d is smaller than image %s '
                                '(%d bytes)' % (size, image['name'],
                                                image_size))
        if size % SECTOR:
            raise ApiError(422, 'volume size %d is not a multiple of %d'
                           % (size, SECTOR))
        image_id = None if blank else image['id']
        existing = self.volumes.get(vid)
        if existing is not None:
            if (existing['imageId'] == image_id
                    and existing['sizeBytes'] == size
                    and existing['state'] != 'deleting'):
                return self._view(existing)
            raise ApiError(409, 'volume %s exists (image %s, %d bytes, %s)'
                           % (vid, existing['imageId'], existing['sizeBytes'],
                              existing['state']))
        host = r.get('host')
        if host and host not in self.hosts:
            raise ApiError(404, "no host '%s'; agents must register first "
                                "(POST /v1/hosts)" % host)
        v = {'id': vid, 'name': r.get('name'), 'imageId': image_id,
             'hostId': host or None, 'sizeBytes': size,
             'state': 'creating' if host else 'pending',
             'placedAt': time.monotonic() if host else None,
             'chapUser': 'vol-' + vid.split('-')[0],
             'chapSecret': uuid.uuid4().hex}
        self.volumes[vid] = v
        return self._view(v)

    def _connect(self, v, connector):
        if v['state'] == 'deleting':
            raise ApiError(409, 'volume %s is being deleted' % v['id'])
        host = self._host_of(connector)
        if v['hostId'] is None:
            v['hostId'] = host
            v['state'] = 'creating'
            v['placedAt'] = time.monotonic()
        elif v['hostId'] != host:
            raise ApiError(409, 'volume %s lives on host %s (its data is on '
                                "that host's disk); it cannot be attached "
                                'from %s' % (v['id'], v['hostId'], host))
        self._maybe_exported(v)
        return {'volumeId': v['id'], 'hostId': host,
                'portal': self.hosts[host],
                'iqn': IQN_PREFIX + 'volume.' + v['id'], 'lun': 0,
                'authMethod': 'CHAP', 'authUsername': v['chapUser'],
                'authPassword': v['chapSecret'],
                'exported': v['state'] == 'available'}

    def _host_of(self, connector):
        host, ip = connector.get('host'), connector.get('ip')
        if not host and not ip:
            raise ApiError(422, "a connector needs the attaching host's name "
                                "('host') or address ('ip')")
        if host in self.hosts:
            return host
        for host_id, portal in self.hosts.items():
            if ip and portal.startswith(ip + ':'):
                return host_id
        raise ApiError(404, 'no VirtMan host for connector host=%s ip=%s: '
                            'run a managed agent on that compute node (its '
                            '--host-id or portal address must match)'
                       % (host, ip))

    def _maybe_exported(self, v):
        if (v['state'] == 'creating' and self.export_delay is not None
                and time.monotonic() - v['placedAt'] >= self.export_delay):
            v['state'] = 'available'

    def _find(self, vid):
        v = self.volumes.get(vid)
        if v is None:
            raise ApiError(404, 'no volume ' + vid)
        return v

    def _view(self, v):
        self._maybe_exported(v)
        return {'id': v['id'], 'name': v['name'], 'imageId': v['imageId'],
                'hostId': v['hostId'], 'sizeBytes': v['sizeBytes'],
                'status': v['state'],
                'iqn': IQN_PREFIX + 'volume.' + v['id'],
                'createdAt': '2026-11-26T10:00:00Z'}


def _require_method(method, *allowed):
    if method not in allowed:
        raise ApiError(405, 'method %s not allowed here; use %s'
                       % (method, ' or '.join(allowed)))


def _parse(headers, raw, fields):
    """Json.parse: a JSON object with only the request type's fields."""
    content_type = headers.get('content-type')
    if content_type and not content_type.lower().startswith(
            'application/json'):
        raise ApiError(415, 'Content-Type must be application/json, got '
                       + content_type)
    if not raw:
        raise ApiError(400, 'request body is required (JSON)')
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise ApiError(400, 'malformed JSON: %s' % e)
    if not isinstance(value, dict):
        raise ApiError(422, 'expected a JSON object')
    for key in value:
        if key not in fields:
            raise ApiError(422, "unknown field '%s'; expected one of [%s]"
                           % (key, ', '.join('"%s"' % f for f in fields)))
    return value


def _json_reply(status, value, extra=None):
    body = None if value is None else json.dumps(value).encode()
    return CannedReply(status, body), extra or {}


def _handler_for(emulator):

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def _serve(self):
            length = int(self.headers.get('Content-Length') or 0)
            raw = self.rfile.read(length) if length else b''
            result = emulator.handle(self.command, self.path,
                                     {k.lower(): v for k, v in self.headers.items()}, raw)
            reply, extra = result if isinstance(result, tuple) else (result,
                                                                     {})
            if reply.delay is not None:
                emulator.release.wait(reply.delay)
            if reply.status is None:
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in extra.items():
                self.send_header(name, value)
            body = reply.body
            if isinstance(body, str):
                body = body.encode()
            if body is not None:
                self.send_header('Content-Type', reply.content_type)
            self.send_header('Content-Length', str(len(body or b'')))
            try:
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a request timeout test)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, fmt, *args):
            pass  # the tests assert on emulator.requests instead

    return Handler
