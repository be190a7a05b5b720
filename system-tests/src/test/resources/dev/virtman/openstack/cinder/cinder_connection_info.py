"""The VirtMan Cinder driver, unchanged, as cinder-volume runs it, for OsBrickInteropTest.

    VIRTMAN_MANAGER_URL=... VIRTMAN_API_TOKEN=... python3 cinder_connection_info.py \
        CINDER_DIR create|connect|delete VOLUME_ID [CONNECTOR_JSON_FILE]

create: driver.create_volume of a blank 1 GiB volume; connect: prints the JSON of
driver.initialize_connection(volume, connector), the connection_info Cinder hands to Nova;
delete: driver.delete_volume. The token comes from the environment, never argv.
"""

import json
import os
import sys

sys.path.insert(0, sys.argv[1])

from oslo_config import cfg  # noqa: E402

from cinder import objects  # noqa: E402
from cinder.volume import configuration  # noqa: E402
from cinder.volume import driver as volume_driver  # noqa: E402

from virtman_cinder import driver as virtman_driver  # noqa: E402

GROUP = 'virtman-osbrick'


def make_driver():
    objects.register_all()
    cfg.CONF([], project='cinder', default_config_files=[])
    conf = configuration.Configuration(volume_driver.volume_opts, config_group=GROUP)
    d = virtman_driver.VirtmanDriver(configuration=conf)
    for name, value in (('virtman_manager_url', os.environ['VIRTMAN_MANAGER_URL']),
                        ('virtman_api_token', os.environ['VIRTMAN_API_TOKEN']),
                        ('virtman_export_timeout', 120),
                        ('volume_backend_name', 'virtman')):
        cfg.CONF.set_override(name, value, group=GROUP)
    d.do_setup(None)
    d.check_for_setup_error()
    return d


def main():
    action, volume_id = sys.argv[2], sys.argv[3]
    d = make_driver()
    volume = objects.Volume(id=volume_id, display_name='os-brick-' + volume_id[:8], size=1)
    if action == 'create':
        print(json.dumps(d.create_volume(volume)))
    elif action == 'connect':
        with open(sys.argv[4]) as f:
            connector = json.load(f)
        print(json.dumps(d.initialize_connection(volume, connector)))
    elif action == 'delete':
        d.delete_volume(volume)
    else:
        raise SystemExit('unknown action ' + action)


if __name__ == '__main__':
    main()
