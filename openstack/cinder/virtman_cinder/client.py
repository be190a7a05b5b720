"""A small client for the VirtMan manager's REST API (/v1, bearer token)."""

import requests

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class ManagerError(Exception):
    """The manager refused a request or could not be reached."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ManagerClient(object):
    """Calls the manager; every error becomes a ManagerError with the manager's own message."""

    def __init__(self, base_url, token, timeout):
        self._base = base_url.rstrip('/')
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({'Authorization': 'Bearer ' + token,
                                      'Accept': 'application/json'})

    def call(self, method, path, body=None):
        url = self._base + path
        try:
            resp = self._session.request(method, url, json=body,
                                         timeout=self._timeout)
        except requests.RequestException as e:
            raise ManagerError('cannot reach the VirtMan manager at %s: %s'
                               % (self._base, e))
        if resp.status_code >= 400:
            try:
                message = resp.json().get('error') or resp.text
            except ValueError:
                message = resp.text
            raise ManagerError('%s %s: %s (HTTP %d)' % (method, path, message,
                                                        resp.status_code),
                               resp.status_code)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

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
