#!/bin/sh
# keepalived's vrrp_script for a wg-relay host: succeeds while the relay answers /healthz on
# its metrics listener (WG_RELAY_METRICS, here 127.0.0.1:9108 in the relay's network
# namespace). A dead relay refuses the connection at once; a hung one fails after 1 s.
exec curl -fsS -m 1 -o /dev/null http://127.0.0.1:9108/healthz
