"""VirtMan volume driver for Cinder.

A VirtMan volume is a copy-on-write overlay over an image, kept on the disk of the compute node
that attaches it and exported by that node's VirtMan agent as its own iSCSI target (one LUN, CHAP).
Unwritten data is read through the agent's shared, lazily filled cache of the image, so creating a
volume from an image copies nothing, and N volumes of one image on a node fetch the image once.

The driver is thin: every operation is one or two calls to the VirtMan manager's REST API.

    cinder.conf:
        [virtman]
        volume_driver = virtman_cinder.driver.VirtmanDriver
        volume_backend_name = virtman
        virtman_manager_url = https://10.0.0.1:7070,https://10.0.0.2:7070,https://10.0.0.3:7070
        virtman_ca_file = /etc/cinder/virtman-ca.pem         (the CA 'virtman certs' made, for https://)
        virtman_api_token_file = /etc/cinder/virtman-token   (the manager's admin token, 0640 root:cinder)

One URL, or several managers of one cluster (virtman manager --etcd): the driver moves on to the
next when one cannot be reached or answers 503 (client.ManagerClient says exactly when).
"""

import os
import stat
import time

from oslo_config import cfg
from oslo_config import types
from oslo_log import log as logging

from cinder.common import constants
from cinder import exception
from cinder.i18n import _
from cinder import interface
from cinder.volume import configuration
from cinder.volume import driver

from virtman_cinder import client as virtman_client

LOG = logging.getLogger(__name__)

GIB = 1024 ** 3

virtman_opts = [
    cfg.ListOpt('virtman_manager_url',
                item_type=types.URI(schemes=['http', 'https']),
                help='Base URL of the VirtMan manager REST API, e.g. '
                     'http://controller:7070, or several managers of one '
                     'cluster separated by commas: the driver fails over '
                     'between them.'),
    cfg.StrOpt('virtman_ca_file',
               help='PEM file of the CA certificates an https:// manager '
                    'must chain to (e.g. the ca.pem of virtman certs); '
                    "unset: the system's trust store."),
    cfg.StrOpt('virtman_api_token_file',
               help="File holding the manager's admin token (a copy of its "
                    "state directory's 'token' file, readable by the "
                    "cinder user and nobody else). Preferred over "
                    "virtman_api_token."),
    cfg.StrOpt('virtman_api_token', secret=True,
               help="The manager's admin token itself; use "
                    "virtman_api_token_file instead, so the secret is not "
                    "copied into every cinder.conf."),
    cfg.IntOpt('virtman_request_timeout', default=120, min=1,
               help='Seconds to wait for one manager request (an image '
                    'import from Glance can take a while).'),
    cfg.IntOpt('virtman_export_timeout', default=60, min=1,
               help="Seconds initialize_connection waits for the compute "
                    "node's agent to export the volume (it learns of it on "
                    "its next heartbeat)."),
]

CONF = cfg.CONF
CONF.register_opts(virtman_opts, group=configuration.SHARED_CONF_GROUP)

EXPORT_POLL_SECONDS = 0.5


def _read_token_file(path):
    """The token in ``path``; a configuration error that never quotes the file's contents.

    A file every local user can read is refused, as ssh refuses such keys: the token is the
    manager's admin credential.
    """
    try:
        mode = os.stat(path).st_mode
        if mode & stat.S_IROTH:
            raise exception.InvalidConfigurationValue(
                option='virtman_api_token_file',
                value='%s (readable by every user: chmod o-r it)' % path)
        with open(path, encoding='ascii') as f:
            return f.read(4096)
    except (OSError, UnicodeDecodeError) as e:
        raise exception.InvalidConfigurationValue(
            option='virtman_api_token_file',
            value='%s (unreadable: %s)' % (path, getattr(e, 'strerror', None) or type(e).__name__))


@interface.volumedriver
class VirtmanDriver(driver.VolumeDriver):
    """Copy-on-write volumes over images, exported by the attaching node's VirtMan agent.

    Version history:
        1.0.0 - create from image (clone_image), blank volumes, delete,
                initialize/terminate connection (iSCSI + CHAP), stats
    """

    VERSION = '1.0.0'
    CI_WIKI_NAME = 'VirtMan_CI'

    def __init__(self, *args, **kwargs):
        super(VirtmanDriver, self).__init__(*args, **kwargs)
        self.configuration.append_config_values(virtman_opts)
        self._client = None
        self._stats = {}

    # ------------------------------------------------------------ setup

    def do_setup(self, context):
        urls = self.configuration.safe_get('virtman_manager_url')
        token_file = self.configuration.safe_get('virtman_api_token_file')
        token = self.configuration.safe_get('virtman_api_token')
        if token_file:
            token = _read_token_file(token_file)
        ca_file = self.configuration.safe_get('virtman_ca_file')
        if ca_file and not os.access(ca_file, os.R_OK):
            raise exception.InvalidConfigurationValue(
                option='virtman_ca_file', value='%s (not readable)' % ca_file)
        if not urls or not token:
            raise exception.InvalidConfigurationValue(
                option='virtman_manager_url/virtman_api_token_file',
                value='unset')
        try:
            self._client = virtman_client.ManagerClient(
                urls, token, self.configuration.virtman_request_timeout,
                ca_file=ca_file)
        except ValueError as e:
            # Never quote the token itself: it is a secret.
            raise exception.InvalidConfigurationValue(
                option='virtman_api_token', value='(secret: %s)' % e)

    def check_for_setup_error(self):
        try:
            self._client.volumes()
        except virtman_client.ManagerError as e:
            raise exception.VolumeDriverException(
                message=_('VirtMan manager unusable: %s') % e)

    # ------------------------------------------------------------ volumes

    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        """Creates the volume over the image: no data is copied.

        The manager imports the Glance image on demand (once; verified
        against Glance's hashes). Returns (model_update, True) so Cinder
        neither downloads the image nor copies it into the volume.
        """
        glance_id = image_meta.get('id')
        try:
            image = self._client.import_glance_image(glance_id)
            self._client.create_volume(volume.id, volume.display_name,
                                       image['id'], volume.size * GIB)
        except virtman_client.ManagerError as e:
            LOG.error('VirtMan could not create volume %(vol)s from image '
                      '%(img)s: %(err)s',
                      {'vol': volume.id, 'img': glance_id, 'err': e})
            raise exception.VolumeBackendAPIException(data=str(e))
        LOG.info('Volume %(vol)s created over VirtMan image %(img)s '
                 '(Glance %(glance)s)',
                 {'vol': volume.id, 'img': image['id'], 'glance': glance_id})
        return {'provider_location': 'virtman:' + image['id']}, True

    def create_volume(self, volume):
        """A blank volume (no image): zeros until written."""
        self._call(self._client.create_volume, volume.id,
                   volume.display_name, None, volume.size * GIB)
        return {'provider_location': 'virtman:blank'}

    def delete_volume(self, volume):
        try:
            self._client.delete_volume(volume.id)
        except virtman_client.ManagerError as e:
            if e.status == 404:
                LOG.info('Volume %s is not known to VirtMan; nothing to '
                         'delete', volume.id)
                return
            raise exception.VolumeBackendAPIException(data=str(e))

    def create_cloned_volume(self, volume, src_vref):
        raise NotImplementedError()

    def create_volume_from_snapshot(self, volume, snapshot):
        raise NotImplementedError()

    def create_snapshot(self, snapshot):
        raise NotImplementedError()

    def delete_snapshot(self, snapshot):
        raise NotImplementedError()

    def extend_volume(self, volume, new_size):
        raise NotImplementedError()

    # ------------------------------------------------------------ exports

    def create_export(self, context, volume, connector):
        """The compute node's agent exports the volume; nothing to do here."""
        return None

    def ensure_export(self, context, volume):
        return None

    def remove_export(self, context, volume):
        return None

    def initialize_connection(self, volume, connector):
        """iSCSI properties of the volume's LUN on the connector's own agent.

        The first connection places the volume on the connector's host; the
        driver then waits until that host's agent exports it.
        """
        deadline = time.monotonic() + self.configuration.virtman_export_timeout
        while True:
            c = self._call(self._client.connect, volume.id, connector)
            if c['exported']:
                break
            if time.monotonic() > deadline:
                raise exception.VolumeBackendAPIException(
                    data=_('the VirtMan agent on host %(host)s did not export '
                           'volume %(vol)s within %(t)d s') %
                    {'host': c['hostId'], 'vol': volume.id,
                     't': self.configuration.virtman_export_timeout})
            time.sleep(EXPORT_POLL_SECONDS)
        LOG.info('Volume %(vol)s: connection for %(host)s at %(portal)s',
                 {'vol': volume.id, 'host': c['hostId'],
                  'portal': c['portal']})
        return {
            'driver_volume_type': 'iscsi',
            'data': {
                'target_discovered': False,
                'target_portal': c['portal'],
                'target_iqn': c['iqn'],
                'target_lun': c['lun'],
                'volume_id': volume.id,
                'auth_method': c['authMethod'],
                'auth_username': c['authUsername'],
                'auth_password': c['authPassword'],
                'discard': False,
            },
        }

    def terminate_connection(self, volume, connector, **kwargs):
        """The LUN stays exported (data on that node) for the next attach."""
        return None

    # ------------------------------------------------------------ stats

    def get_volume_stats(self, refresh=False):
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats

    def _update_volume_stats(self):
        name = self.configuration.safe_get('volume_backend_name') or 'virtman'
        self._stats = {
            'volume_backend_name': name,
            'vendor_name': 'VirtMan',
            'driver_version': self.VERSION,
            'storage_protocol': constants.ISCSI,
            # Volumes live on compute nodes' disks and grow only by what
            # guests write: the backend reports no fixed capacity.
            'total_capacity_gb': 'infinite',
            'free_capacity_gb': 'infinite',
            'reserved_percentage': 0,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'multiattach': False,
            'QoS_support': False,
        }

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except virtman_client.ManagerError as e:
            raise exception.VolumeBackendAPIException(data=str(e))
