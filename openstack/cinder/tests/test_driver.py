"""VirtmanDriver against a real HTTP server that answers the manager's REST API.

The driver runs unchanged (Debian's python3-cinder, oslo.config, requests);
only the manager is emulated, by tests/manager_emulator.py on 127.0.0.1 with
an ephemeral port. End-to-end with the real manager, agents and Cinder
services: CinderVolumeInteropTest.

    /usr/bin/python3 -m unittest discover -s openstack/cinder/tests -v
"""

import contextlib
import itertools
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
for path in (HERE, os.path.dirname(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from oslo_config import cfg  # noqa: E402

from cinder import exception  # noqa: E402
from cinder import objects  # noqa: E402
from cinder.volume import configuration  # noqa: E402
from cinder.volume import driver as volume_driver  # noqa: E402

from virtman_cinder import driver as virtman_driver  # noqa: E402

import manager_emulator  # noqa: E402

GIB = 1024 ** 3
MIB = 1024 ** 2
TOKEN = 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw'
GLANCE_ID = '9c1e2d34-5f6a-4b7c-8d9e-0f1a2b3c4d5e'
GLANCE_SIZE = 40 * MIB
BIG_GLANCE_ID = '1f2e3d4c-0000-4000-8000-00000000bbbb'
COMPUTE = 'compute-1'
COMPUTE_PORTAL = '127.0.0.2:3260'
OTHER = 'compute-2'
OTHER_PORTAL = '127.0.0.3:3260'
CONNECTOR = {'host': COMPUTE, 'ip': '127.0.0.2',
             'initiator': 'iqn.1993-08.org.debian:01:compute1',
             'multipath': False, 'platform': 'x86_64', 'os_type': 'linux2',
             'do_local_attach': False}
# initialize_connection polls every 0.5 s (driver.EXPORT_POLL_SECONDS): the
# emulated agent exports after a poll or two.
EXPORT_DELAY = 0.7

CONF = cfg.CONF
_groups = itertools.count(1)
_saved_handlers = []


def setUpModule():
    objects.register_all()
    CONF([], project='cinder', default_config_files=[])
    # Importing cinder gave the root logger a stderr handler; the driver's
    # errors are asserted on here, not printed (recorded_logs sees them all).
    root = logging.getLogger()
    _saved_handlers.extend(root.handlers)
    for handler in _saved_handlers:
        root.removeHandler(handler)
    root.addHandler(logging.NullHandler())


def tearDownModule():
    root = logging.getLogger()
    for handler in _saved_handlers:
        root.addHandler(handler)


def make_driver(url, token=TOKEN, **options):
    """A VirtmanDriver configured like a cinder.conf backend section."""
    group = 'virtman-unit-%d' % next(_groups)
    conf = configuration.Configuration(volume_driver.volume_opts,
                                       config_group=group)
    d = virtman_driver.VirtmanDriver(configuration=conf)
    settings = {'virtman_manager_url': url, 'virtman_api_token': token,
                'volume_backend_name': 'virtman'}
    settings.update(options)
    for name, value in settings.items():
        CONF.set_override(name, value, group=group)
    return d


def new_volume(size_gib=1, name='vm-disk'):
    return objects.Volume(id=str(uuid.uuid4()), display_name=name,
                          size=size_gib)


def free_port():
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class RecordedLogs(logging.Handler):
    """Every log record of every logger (driver, requests, urllib3), formatted."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def recorded_logs():
    root = logging.getLogger()
    handler = RecordedLogs()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


class DriverTestCase(unittest.TestCase):
    """A manager emulator with one Glance image and two compute agents."""

    export_delay = EXPORT_DELAY

    def setUp(self):
        self.manager = manager_emulator.ManagerEmulator(
            TOKEN, glance_images={GLANCE_ID: GLANCE_SIZE,
                                  BIG_GLANCE_ID: 3 * GIB},
            hosts={COMPUTE: COMPUTE_PORTAL, OTHER: OTHER_PORTAL},
            export_delay=self.export_delay)
        self.manager.__enter__()
        self.addCleanup(self.manager.__exit__, None, None, None)
        self.driver = self.setup_driver(self.manager.url)

    def setup_driver(self, url, **options):
        d = make_driver(url, **options)
        d.do_setup(None)
        self.addCleanup(d._client.close)
        return d

    def assertBackendError(self, fn, *args, **kwargs):
        """fn raises VolumeBackendAPIException; returns its message."""
        with self.assertRaises(exception.VolumeBackendAPIException) as cm:
            fn(*args, **kwargs)
        message = str(cm.exception)
        self.assertNotIn(TOKEN, message)
        return message


class CreateFromImageTest(DriverTestCase):

    def test_imports_the_glance_image_on_demand_then_creates_a_volume_over_it(self):
        volume = new_volume(size_gib=2, name='web-1 root')

        update, cloned = self.driver.clone_image(
            None, volume, (None, None), {'id': GLANCE_ID}, None)

        self.assertTrue(cloned, 'Cinder must neither download nor copy')
        imports = self.manager.requests_to('POST', '/v1/images')
        self.assertEqual([{'glanceImageId': GLANCE_ID}],
                         [r.body for r in imports])
        (image_id,) = self.manager.images
        self.assertEqual({'provider_location': 'virtman:' + image_id}, update)
        creates = self.manager.requests_to('POST', '/v1/volumes')
        self.assertEqual([{'id': volume.id, 'name': 'web-1 root',
                           'image': image_id, 'sizeBytes': 2 * GIB}],
                         [r.body for r in creates])
        stored = self.manager.volumes[volume.id]
        self.assertEqual((image_id, 2 * GIB, 'pending', None),
                         (stored['imageId'], stored['sizeBytes'],
                          stored['state'], stored['hostId']))

    def test_a_second_volume_of_the_image_reuses_the_import(self):
        first, second = new_volume(), new_volume()
        self.driver.clone_image(None, first, (None, None),
                                {'id': GLANCE_ID}, None)
        update, _ = self.driver.clone_image(None, second, (None, None),
                                            {'id': GLANCE_ID}, None)

        self.assertEqual(1, len(self.manager.images))
        (image_id,) = self.manager.images
        self.assertEqual('virtman:' + image_id, update['provider_location'])
        self.assertEqual({first.id, second.id}, set(self.manager.volumes))

    def test_a_retried_create_is_answered_with_the_same_volume(self):
        volume = new_volume()
        for _ in range(2):
            self.driver.clone_image(None, volume, (None, None),
                                    {'id': GLANCE_ID}, None)
        self.assertEqual([volume.id], list(self.manager.volumes))

    def test_an_image_missing_from_glance_fails_the_create_with_the_managers_reason(self):
        volume = new_volume()
        message = self.assertBackendError(
            self.driver.clone_image, None, volume, (None, None),
            {'id': 'no-such-glance-image'}, None)

        self.assertIn('has no image no-such-glance-image', message)
        self.assertIn('POST /v1/images', message)
        self.assertIn('HTTP 422', message)
        self.assertEqual({}, self.manager.volumes)

    def test_a_failing_glance_fails_the_create(self):
        self.manager.answer_next('POST', '/v1/images', manager_emulator.CannedReply(
            502, '{"error": "Glance at http://glance.invalid:9292 answered '
                 'HTTP 503 for image %s: busy"}' % GLANCE_ID))
        message = self.assertBackendError(
            self.driver.clone_image, None, new_volume(), (None, None),
            {'id': GLANCE_ID}, None)

        self.assertIn('answered HTTP 503', message)
        self.assertIn('(HTTP 502)', message)
        self.assertEqual({}, self.manager.volumes)

    def test_a_volume_smaller_than_the_image_is_refused(self):
        message = self.assertBackendError(
            self.driver.clone_image, None, new_volume(size_gib=2),
            (None, None), {'id': BIG_GLANCE_ID}, None)

        self.assertIn('is smaller than image', message)
        self.assertIn('HTTP 422', message)
        self.assertEqual({}, self.manager.volumes)


class BlankVolumeTest(DriverTestCase):

    def test_a_blank_volume_has_no_image_and_the_cinder_size(self):
        volume = new_volume(size_gib=5, name=None)

        update = self.driver.create_volume(volume)

        self.assertEqual({'provider_location': 'virtman:blank'}, update)
        (create,) = self.manager.requests_to('POST', '/v1/volumes')
        self.assertEqual({'id': volume.id, 'name': None, 'image': None,
                          'sizeBytes': 5 * GIB}, create.body)
        self.assertIsNone(self.manager.volumes[volume.id]['imageId'])
        self.assertEqual([], self.manager.requests_to('POST', '/v1/images'))

    def test_an_id_the_manager_refuses_becomes_a_backend_error(self):
        volume = new_volume()
        volume.id = volume.id.upper()  # not IQN-safe
        message = self.assertBackendError(self.driver.create_volume, volume)
        self.assertIn("volume id '%s' must match" % volume.id, message)


class DeleteTest(DriverTestCase):

    def test_deleting_an_unattached_volume_removes_it(self):
        volume = new_volume()
        self.driver.create_volume(volume)

        self.driver.delete_volume(volume)

        self.assertEqual(1, len(self.manager.requests_to(
            'DELETE', '/v1/volumes/' + volume.id)))
        self.assertEqual({}, self.manager.volumes)

    def test_deleting_a_placed_volume_leaves_it_to_its_agent(self):
        volume = new_volume()
        self.driver.create_volume(volume)
        self.driver.initialize_connection(volume, CONNECTOR)

        self.driver.delete_volume(volume)

        self.assertEqual('deleting', self.manager.volumes[volume.id]['state'])

    def test_a_volume_the_manager_does_not_know_counts_as_deleted(self):
        volume = new_volume()

        self.driver.delete_volume(volume)  # no exception: 404 is done

        (delete,) = self.manager.requests_to('DELETE',
                                             '/v1/volumes/' + volume.id)
        self.assertIsNone(delete.body)

    def test_any_other_refusal_fails_the_delete(self):
        volume = new_volume()
        self.manager.answer_next('DELETE', '/v1/volumes/' + volume.id,
                                 manager_emulator.CannedReply(
                                     500, '{"error": "state store failed, '
                                          'nothing changed: disk full"}'))
        message = self.assertBackendError(self.driver.delete_volume, volume)
        self.assertIn('state store failed, nothing changed: disk full',
                      message)
        self.assertIn('HTTP 500', message)


class ConnectionTest(DriverTestCase):

    def test_initialize_connection_returns_the_agents_iscsi_properties_once_exported(self):
        volume = new_volume()
        self.driver.clone_image(None, volume, (None, None),
                                {'id': GLANCE_ID}, None)

        info = self.driver.initialize_connection(volume, CONNECTOR)

        stored = self.manager.volumes[volume.id]
        self.assertEqual('iscsi', info['driver_volume_type'])
        self.assertEqual({
            'target_discovered': False,
            'target_portal': COMPUTE_PORTAL,
            'target_iqn': 'iqn.2026-01.dev.virtman:volume.' + volume.id,
            'target_lun': 0,
            'volume_id': volume.id,
            'auth_method': 'CHAP',
            'auth_username': stored['chapUser'],
            'auth_password': stored['chapSecret'],
            'discard': False,
        }, info['data'])
        self.assertEqual((COMPUTE, 'available'),
                         (stored['hostId'], stored['state']))
        polls = self.manager.requests_to(
            'POST', '/v1/volumes/%s/connection' % volume.id)
        self.assertGreaterEqual(len(polls), 2,
                                'the agent exports only after placement')
        for poll in polls:
            self.assertEqual({'host': COMPUTE, 'ip': '127.0.0.2',
                              'initiator': CONNECTOR['initiator']}, poll.body)

    def test_an_exported_volume_is_connected_with_one_call(self):
        volume = new_volume()
        self.driver.create_volume(volume)
        self.driver.initialize_connection(volume, CONNECTOR)
        before = len(self.manager.requests)

        info = self.driver.initialize_connection(volume, CONNECTOR)

        self.assertEqual(1, len(self.manager.requests) - before)
        self.assertEqual(COMPUTE_PORTAL, info['data']['target_portal'])

    def test_a_connector_is_matched_by_ip_when_its_host_name_is_unknown(self):
        volume = new_volume()
        self.driver.create_volume(volume)
        connector = dict(CONNECTOR, host='nova-compute-7', ip='127.0.0.3')

        info = self.driver.initialize_connection(volume, connector)

        self.assertEqual(OTHER_PORTAL, info['data']['target_portal'])
        self.assertEqual(OTHER, self.manager.volumes[volume.id]['hostId'])

    def test_a_second_host_is_refused_because_the_data_lives_on_the_first(self):
        volume = new_volume()
        self.driver.create_volume(volume)
        self.driver.initialize_connection(volume, CONNECTOR)
        password = self.manager.volumes[volume.id]['chapSecret']

        message = self.assertBackendError(
            self.driver.initialize_connection, volume,
            dict(CONNECTOR, host=OTHER, ip='127.0.0.3'))

        self.assertIn('lives on host %s' % COMPUTE, message)
        self.assertIn('HTTP 409', message)
        self.assertNotIn(password, message)

    def test_a_node_without_an_agent_is_refused(self):
        volume = new_volume()
        self.driver.create_volume(volume)
        message = self.assertBackendError(
            self.driver.initialize_connection, volume,
            dict(CONNECTOR, host='compute-9', ip='127.0.0.9'))
        self.assertIn('no VirtMan host for connector host=compute-9', message)
        self.assertIn('HTTP 404', message)

    def test_terminate_connection_keeps_the_lun_and_calls_nothing(self):
        volume = new_volume()
        self.driver.create_volume(volume)
        self.driver.initialize_connection(volume, CONNECTOR)
        before = len(self.manager.requests)

        self.assertIsNone(self.driver.terminate_connection(volume, CONNECTOR))

        self.assertEqual(before, len(self.manager.requests))
        self.assertEqual('available',
                         self.manager.volumes[volume.id]['state'])

    def test_the_chap_secret_is_never_logged(self):
        volume = new_volume()
        self.driver.create_volume(volume)
        with recorded_logs() as logs:
            info = self.driver.initialize_connection(volume, CONNECTOR)
        password = info['data']['auth_password']
        self.assertTrue(logs.messages, 'the driver logs the connection')
        for message in logs.messages:
            self.assertNotIn(password, message)
            self.assertNotIn(TOKEN, message)


class AgentDownTest(DriverTestCase):
    """The node's agent never reports the LUN exported."""

    export_delay = None

    def test_initialize_connection_gives_up_after_the_export_timeout(self):
        self.driver = self.setup_driver(self.manager.url,
                                        virtman_export_timeout=1)
        volume = new_volume()
        self.driver.create_volume(volume)
        start = time.monotonic()

        message = self.assertBackendError(self.driver.initialize_connection,
                                          volume, CONNECTOR)

        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 1)
        self.assertLess(elapsed, 10)
        self.assertIn('the VirtMan agent on host %s did not export volume %s '
                      'within 1 s' % (COMPUTE, volume.id), message)
        self.assertNotIn(self.manager.volumes[volume.id]['chapSecret'],
                         message)


class StatsTest(DriverTestCase):

    def test_stats_report_an_infinite_thin_iscsi_backend_without_asking_the_manager(self):
        stats = self.driver.get_volume_stats(refresh=True)

        self.assertEqual({
            'volume_backend_name': 'virtman',
            'vendor_name': 'VirtMan',
            'driver_version': virtman_driver.VirtmanDriver.VERSION,
            'storage_protocol': 'iSCSI',
            'total_capacity_gb': 'infinite',
            'free_capacity_gb': 'infinite',
            'reserved_percentage': 0,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'multiattach': False,
            'QoS_support': False,
        }, stats)
        self.assertIs(stats, self.driver.get_volume_stats())
        self.assertEqual([], self.manager.requests)

    def test_the_backend_name_comes_from_the_configuration(self):
        d = self.setup_driver(self.manager.url, volume_backend_name='gold')
        self.assertEqual('gold',
                         d.get_volume_stats(True)['volume_backend_name'])


class UnsupportedTest(DriverTestCase):

    def test_snapshots_clones_and_extend_are_not_implemented(self):
        volume = new_volume()
        for call in (lambda: self.driver.create_cloned_volume(volume, volume),
                     lambda: self.driver.create_volume_from_snapshot(volume,
                                                                     None),
                     lambda: self.driver.create_snapshot(None),
                     lambda: self.driver.delete_snapshot(None),
                     lambda: self.driver.extend_volume(volume, 2)):
            with self.assertRaises(NotImplementedError):
                call()
        self.assertEqual([], self.manager.requests)


class AuthenticationTest(DriverTestCase):

    def test_every_request_carries_the_bearer_token(self):
        volume = new_volume()
        self.driver.check_for_setup_error()
        self.driver.clone_image(None, volume, (None, None),
                                {'id': GLANCE_ID}, None)
        self.driver.initialize_connection(volume, CONNECTOR)
        self.driver.delete_volume(volume)

        self.assertGreaterEqual(len(self.manager.requests), 5)
        for r in self.manager.requests:
            self.assertEqual('Bearer ' + TOKEN, r.headers['authorization'], r)
            self.assertEqual('application/json', r.headers['accept'], r)
            if r.body is not None:
                self.assertEqual('application/json',
                                 r.headers['content-type'], r)

    def test_setup_check_lists_volumes(self):
        self.driver.check_for_setup_error()
        self.assertEqual(1, len(self.manager.requests_to('GET',
                                                         '/v1/volumes')))

    def test_a_wrong_token_fails_the_setup_check_without_showing_either_token(self):
        wrong = 'd3JvbmctdG9rZW4tZm9yLXRlc3Rz'
        d = self.setup_driver(self.manager.url, virtman_api_token=wrong)

        with self.assertRaises(exception.VolumeDriverException) as cm:
            d.check_for_setup_error()

        message = str(cm.exception)
        self.assertIn('VirtMan manager unusable', message)
        self.assertIn('invalid bearer token', message)
        self.assertIn('HTTP 401', message)
        self.assertNotIn(wrong, message)
        self.assertNotIn(TOKEN, message)

    def test_a_token_file_read_with_its_newline_still_works(self):
        d = self.setup_driver(self.manager.url,
                              virtman_api_token=' ' + TOKEN + '\n')
        d.check_for_setup_error()
        (listing,) = self.manager.requests_to('GET', '/v1/volumes')
        self.assertEqual('Bearer ' + TOKEN, listing.headers['authorization'])

    def test_a_token_with_inner_whitespace_is_a_configuration_error_that_hides_it(self):
        bad = 'half-a-token other-half'
        d = make_driver(self.manager.url, token=bad)
        with recorded_logs() as logs:
            with self.assertRaises(exception.InvalidConfigurationValue) as cm:
                d.do_setup(None)
        self.assertIn('virtman_api_token', str(cm.exception))
        for message in [str(cm.exception)] + logs.messages:
            self.assertNotIn('half-a-token', message)
        self.assertEqual([], self.manager.requests)

    def test_the_token_comes_from_a_token_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'virtman-token')
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            with os.fdopen(fd, 'w') as f:
                f.write(TOKEN + '\n')
            d = self.setup_driver(self.manager.url, virtman_api_token=None,
                                  virtman_api_token_file=path)
            d.check_for_setup_error()
        (listing,) = self.manager.requests_to('GET', '/v1/volumes')
        self.assertEqual('Bearer ' + TOKEN, listing.headers['authorization'])

    def test_a_world_readable_or_missing_token_file_is_refused_without_quoting_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'virtman-token')
            with open(path, 'w') as f:
                f.write(TOKEN)
            os.chmod(path, 0o644)
            for candidate, why in ((path, 'readable by every user'),
                                   (path + '.missing', 'unreadable')):
                d = make_driver(self.manager.url, token=None,
                                virtman_api_token_file=candidate)
                with self.assertRaises(exception.InvalidConfigurationValue) as cm:
                    d.do_setup(None)
                self.assertIn('virtman_api_token_file', str(cm.exception))
                self.assertIn(why, str(cm.exception))
                self.assertNotIn(TOKEN, str(cm.exception))
        self.assertEqual([], self.manager.requests)

    def test_a_missing_url_or_token_is_a_configuration_error(self):
        for options in ({'virtman_manager_url': None},
                        {'virtman_api_token': None}):
            d = make_driver(self.manager.url, **options)
            with self.assertRaises(exception.InvalidConfigurationValue):
                d.do_setup(None)


class UnreachableManagerTest(DriverTestCase):

    def test_a_manager_that_is_not_running_is_a_backend_error(self):
        url = 'http://127.0.0.1:%d' % free_port()
        d = self.setup_driver(url)
        message = self.assertBackendError(d.create_volume, new_volume())
        self.assertIn('cannot reach the VirtMan manager at ' + url, message)

    def test_a_manager_that_does_not_answer_is_given_up_after_the_request_timeout(self):
        d = self.setup_driver(self.manager.url, virtman_request_timeout=1)
        self.manager.answer_next('POST', '/v1/volumes',
                                 manager_emulator.CannedReply(
                                     201, '{}', delay=30))
        start = time.monotonic()

        message = self.assertBackendError(d.create_volume, new_volume())

        self.assertLess(time.monotonic() - start, 10)
        self.assertIn('cannot reach the VirtMan manager', message)
        self.assertIn('timed out', message)


class SeveralManagersTest(DriverTestCase):
    """virtman_manager_url with several managers of one cluster."""

    def second_manager(self, **kwargs):
        other = manager_emulator.ManagerEmulator(
            TOKEN, glance_images={GLANCE_ID: GLANCE_SIZE},
            hosts={COMPUTE: COMPUTE_PORTAL}, export_delay=0.0, **kwargs)
        other.__enter__()
        self.addCleanup(other.__exit__, None, None, None)
        return other

    def test_a_manager_that_is_not_running_is_skipped_and_left(self):
        down = 'http://127.0.0.1:%d' % free_port()
        d = self.setup_driver('%s,%s' % (down, self.manager.url))
        with recorded_logs() as logs:
            d.create_volume(new_volume())
            d.create_volume(new_volume())
        self.assertEqual(2, len(self.manager.requests_to('POST',
                                                          '/v1/volumes')))
        warnings = [m for m in logs.messages if 'trying ' + self.manager.url in m]
        self.assertEqual(1, len(warnings), logs.messages)
        self.assertIn(down, warnings[0])

    def test_a_503_moves_the_request_to_the_next_manager(self):
        follower = self.second_manager()
        follower.answer_next('POST', '/v1/volumes', manager_emulator.CannedReply(
            503, '{"error": "this manager is not the leader; send writes '
                 'to %s"}' % self.manager.url))
        d = self.setup_driver('%s,%s' % (follower.url, self.manager.url))
        volume = new_volume()
        d.create_volume(volume)
        self.assertEqual(1, len(follower.requests_to('POST', '/v1/volumes')))
        created = self.manager.requests_to('POST', '/v1/volumes')
        self.assertEqual([volume.id], [r.body['id'] for r in created])

    def test_a_post_whose_connection_broke_is_not_sent_again(self):
        other = self.second_manager()
        self.manager.answer_next('POST', '/v1/volumes',
                                 manager_emulator.CannedReply(None, None))
        d = self.setup_driver('%s,%s' % (self.manager.url, other.url))
        message = self.assertBackendError(d.create_volume, new_volume())
        self.assertIn('cannot reach the VirtMan manager at ' + self.manager.url,
                      message)
        self.assertEqual([], other.requests_to('POST', '/v1/volumes'))

    def test_a_get_whose_connection_broke_goes_to_the_next_manager(self):
        other = self.second_manager()
        self.manager.answer_next('GET', '/v1/volumes',
                                 manager_emulator.CannedReply(None, None))
        d = self.setup_driver('%s,%s' % (self.manager.url, other.url))
        d.check_for_setup_error()
        self.assertEqual(1, len(other.requests_to('GET', '/v1/volumes')))

    def test_every_manager_down_is_one_error_naming_how_many_were_tried(self):
        urls = ['http://127.0.0.1:%d' % free_port() for _ in range(3)]
        d = self.setup_driver(','.join(urls))
        message = self.assertBackendError(d.create_volume, new_volume())
        self.assertIn('no VirtMan manager answered (3 tried', message)

    def test_a_url_that_is_not_http_is_a_configuration_error(self):
        with self.assertRaises(ValueError):
            make_driver('ftp://127.0.0.1:21')


class HttpsManagerTest(DriverTestCase):
    """An https:// manager whose certificate chains to virtman_ca_file."""

    def setUp(self):
        super().setUp()
        tmp = tempfile.mkdtemp()
        self.addCleanup(lambda: [os.remove(os.path.join(tmp, f))
                                 for f in os.listdir(tmp)] and os.rmdir(tmp))
        self.cert = os.path.join(tmp, 'server.pem')
        key = os.path.join(tmp, 'server.key')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec',
                        '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                        '-keyout', key, '-out', self.cert, '-days', '1',
                        '-subj', '/CN=127.0.0.1',
                        '-addext', 'subjectAltName=IP:127.0.0.1'],
                       check=True, capture_output=True)
        self.https = manager_emulator.ManagerEmulator(
            TOKEN, hosts={COMPUTE: COMPUTE_PORTAL}, tls=(self.cert, key))
        self.https.__enter__()
        self.addCleanup(self.https.__exit__, None, None, None)

    def test_the_ca_file_is_trusted(self):
        self.assertTrue(self.https.url.startswith('https://'))
        d = self.setup_driver(self.https.url, virtman_ca_file=self.cert)
        d.create_volume(new_volume())
        self.assertEqual(1, len(self.https.requests_to('POST',
                                                       '/v1/volumes')))

    def test_without_the_ca_file_the_certificate_is_refused(self):
        d = self.setup_driver(self.https.url)
        message = self.assertBackendError(d.create_volume, new_volume())
        self.assertIn('CERTIFICATE_VERIFY_FAILED', message)
        self.assertEqual([], self.https.requests_to('POST', '/v1/volumes'))

    def test_an_unreadable_ca_file_is_a_configuration_error(self):
        d = make_driver(self.https.url,
                        virtman_ca_file=self.cert + '.missing')
        with self.assertRaises(exception.InvalidConfigurationValue):
            d.do_setup(None)


class ReplyShapeTest(DriverTestCase):
    """Replies that are not the manager's JSON (a proxy in front of it)."""

    def test_a_proxy_error_page_is_quoted_briefly(self):
        page = '<html><body>' + 'Bad Gateway ' * 500 + '</body></html>'
        self.manager.answer_next('POST', '/v1/volumes',
                                 manager_emulator.CannedReply(
                                     502, page, content_type='text/html'))

        message = self.assertBackendError(self.driver.create_volume,
                                          new_volume())

        self.assertIn('POST /v1/volumes: <html><body>Bad Gateway', message)
        self.assertIn('(%d characters)' % len(page), message)
        self.assertIn('HTTP 502', message)
        self.assertLess(len(message), 1000)

    def test_an_error_body_that_is_json_but_not_an_object_is_a_backend_error(self):
        self.manager.answer_next('POST', '/v1/volumes',
                                 manager_emulator.CannedReply(
                                     500, '["upstream", "failure"]'))
        message = self.assertBackendError(self.driver.create_volume,
                                          new_volume())
        self.assertIn('["upstream", "failure"] (HTTP 500)', message)

    def test_an_empty_error_body_still_names_the_status(self):
        self.manager.answer_next('POST', '/v1/volumes',
                                 manager_emulator.CannedReply(503, None))
        message = self.assertBackendError(self.driver.create_volume,
                                          new_volume())
        self.assertIn('POST /v1/volumes: no error message (HTTP 503)',
                      message)

    def test_a_success_reply_that_is_not_json_is_a_backend_error(self):
        volume = new_volume()
        self.manager.answer_next('POST',
                                 '/v1/volumes/%s/connection' % volume.id,
                                 manager_emulator.CannedReply(
                                     200, 'OK', content_type='text/plain'))
        message = self.assertBackendError(self.driver.initialize_connection,
                                          volume, CONNECTOR)
        self.assertIn('the reply is not JSON (HTTP 200): OK', message)


if __name__ == '__main__':
    unittest.main()
