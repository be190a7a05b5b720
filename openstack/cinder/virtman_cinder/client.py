"""A small client for the VirtMan manager's REST API (/v1, bearer token)."""

import requests
import urllib3

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# An error body that is not the manager's JSON (a proxy's HTML page, say) is
# quoted only this far in the exception message.
MAX_QUOTED_CHARS = 300


class ManagerError(Exception):
    """The manager refused a request or could not be reached."""

    def __init__(self, message, status=None, not_sent=False):
        super().__init__(message)
        self.status = status
        # True when the request never reached the manager (safe to resend).
        self.not_sent = not_sent


# Methods the manager may receive twice without harm: after a connection that
# broke once the request was sent, only these are sent to the next manager.
IDEMPOTENT = frozenset(('GET', 'PUT', 'DELETE'))
UNAVAILABLE = 503


class ManagerClient(object):
    """Calls the manager; every error becomes a ManagerError with the manager's own message.

    Several URLs (managers of one cluster, virtman manager --etcd) are tried in
    turn: a manager that cannot be reached (connection refused or timed out:
    the request was not sent) or answers 503 (not the leader, store
    unavailable) is left for the next one, each tried at most once per call.
    A connection that breaks after the request went out moves on only for
    GET, PUT and DELETE; a POST then fails, since the manager may have
    applied it. The client stays with the manager that answered.
    """

    def __init__(self, base_url, token, timeout, ca_file=None):
        """
        :param base_url: one URL or a list of them (http:// or https://)
        :param ca_file: PEM CA certificates an https:// manager must chain
            to, or None for the system's trust store
        """
        # The token file ends with a newline; a header value must not. An
        # invalid header would otherwise fail inside http.client with a
        # ValueError quoting the whole header, token included, into the log.
        token = token.strip()
        if not token or any(not ch.isprintable() or ch.isspace()
                            for ch in token):
            raise ValueError('the VirtMan API token is empty or contains '
                             'whitespace or control characters')
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError('no VirtMan manager URL')
        self._bases = [u.rstrip('/') for u in urls]
        self._current = 0
        self._timeout = timeout
        self._session = requests.Session()
        # Given with every request: requests lets $REQUESTS_CA_BUNDLE override
        # a session's own verify setting.
        self._verify = ca_file if ca_file else True
        self._session.headers.update({'Authorization': 'Bearer ' + token,
                                      'Accept': 'application/json'})

    def close(self):
        """Closes the kept-alive connections to the manager."""
        self._session.close()

    @property
    def base(self):
        """The manager in use now."""
        return self._bases[self._current]

    def call(self, method, path, body=None):
        last = None
        for _ in range(len(self._bases)):
            base = self.base
            try:
                return self._call_once(base, method, path, body)
            except ManagerError as e:
                retry = (e.not_sent or e.status == UNAVAILABLE
                         or (e.status is None and method in IDEMPOTENT))
                if len(self._bases) == 1 or not retry:
                    raise
                last = e
                self._current = (self._current + 1) % len(self._bases)
                LOG.warning('VirtMan manager at %(failed)s failed (%(err)s); '
                            'trying %(next)s',
                            {'failed': base, 'err': e, 'next': self.base})
        raise ManagerError('no VirtMan manager answered (%d tried; last: %s)'
                           % (len(self._bases), last), last.status)

    def _call_once(self, base, method, path, body):
        url = base + path
        try:
            resp = self._session.request(method, url, json=body,
                                         timeout=self._timeout,
                                         verify=self._verify)
        except (requests.exceptions.ConnectTimeout,
                requests.exceptions.SSLError) as e:
            # Not sent: no connection, or a certificate this client refuses
            # (a manager with the wrong certificate is no manager of ours).
            raise ManagerError('cannot reach the VirtMan manager at %s: %s'
                               % (base, e), not_sent=True)
        except requests.exceptions.ConnectionError as e:
            raise ManagerError('cannot reach the VirtMan manager at %s: %s'
                               % (base, e), not_sent=_refused(e))
        except requests.RequestException as e:
            raise ManagerError('cannot reach the VirtMan manager at %s: %s'
                               % (base, e))
        if resp.status_code >= 400:
            raise ManagerError('%s %s: %s (HTTP %d)'
                               % (method, path, _error_message(resp),
                                  resp.status_code),
                               resp.status_code)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise ManagerError('%s %s: the reply is not JSON (HTTP %d): %s'
                               % (method, path, resp.status_code,
                                  _quote(resp.text)),
                               resp.status_code)

    def import_glance_image(self, glance_image_id):
        """The manager imports the image from its Glance (a no-op when it has it already)."""
        return self.call('POST', '/v1/images',
                         {'glanceImageId': glance_image_id})

    def create_volume(self, volume_id, name, image_id, size_bytes):
        return self.call('POST', '/v1/volumes',
                         {'id': volume_id, 'name': name, 'image': image_id,
                          'sizeBytes': size_bytes})

    def volume(self, volume_id):
        return self.call('GET', '/v1/volumes/' + volume_id)

    def volumes(self):
        return self.call('GET', '/v1/volumes')

    def delete_volume(self, volume_id):
        return self.call('DELETE', '/v1/volumes/' + volume_id)

    def connect(self, volume_id, connector):
        return self.call('POST', '/v1/volumes/%s/connection' % volume_id,
                         {'host': connector.get('host'),
                          'ip': connector.get('ip'),
                          'initiator': connector.get('initiator')})


def _refused(error):
    """Whether a ConnectionError is a refused or unresolvable connection (nothing was sent)."""
    cause = error.args[0] if error.args else None
    reason = getattr(cause, 'reason', cause)
    return isinstance(reason, (urllib3.exceptions.NewConnectionError,
                               ConnectionRefusedError))


def _error_message(resp):
    """The manager's {"error": "..."}, else (not the manager?) the body's start."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get('error'), str):
        return body['error']
    return _quote(resp.text) or 'no error message'


def _quote(text):
    text = text.strip()
    if len(text) > MAX_QUOTED_CHARS:
        return text[:MAX_QUOTED_CHARS] + '... (%d characters)' % len(text)
    return text
