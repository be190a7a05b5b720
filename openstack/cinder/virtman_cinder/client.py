"""A small client for the VirtMan manager's REST API (/v1, bearer token)."""

import requests

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# An error body that is not the manager's JSON (a proxy's HTML page, say) is
# quoted only this far in the exception message.
MAX_QUOTED_CHARS = 300


class ManagerError(Exception):
    """The manager refused a request or could not be reached."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ManagerClient(object):
    """Calls the manager; every error becomes a ManagerError with the manager's own message."""

    def __init__(self, base_url, token, timeout):
        # The token file ends with a newline; a header value must not. An
        # invalid header would otherwise fail inside http.client with a
        # ValueError quoting the whole header, token included, into the log.
        token = token.strip()
        if not token or any(not ch.isprintable() or ch.isspace()
                            for ch in token):
            raise ValueError('the VirtMan API token is empty or contains '
                             'whitespace or control characters')
        self._base = base_url.rstrip('/')
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({'Authorization': 'Bearer ' + token,
                                      'Accept': 'application/json'})

    def close(self):
        """Closes the kept-alive connections to the manager."""
        self._session.close()

    def call(self, method, path, body=None):
        url = self._base + path
        try:
            resp = self._session.request(method, url, json=body,
                                         timeout=self._timeout)
        except requests.RequestException as e:
            raise ManagerError('cannot reach the VirtMan manager at %s: %s'
                               % (self._base, e))
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
