#!/bin/bash
# Networking (--network none/host/private/pasta/slirp4netns, the root bridge nook0, -p/-P/--expose, port,
# --dns/--dns-search/--add-host/--hostname, exec in the container's network), and that nothing is left after
# the container: no helper process, no veth, no address held.  Traffic stays on this machine: loopback, the
# bridge nook0 and the containers' own namespaces (plus the Debian mirror through apt-get).
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
. "$REPO/tests/system/manager_lib.bash"
mgr_setup

# free_port [udp]: a port nothing listens on now.
free_port () {
  python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "${1:-tcp}"
}
# tcp_get HOST PORT: what a server there sends (empty when nothing answers within 5 s).
tcp_get () {
  python3 -c 'import socket,sys
try:
    c=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5); d=b""
    while True:
        b=c.recv(4096)
        if not b: break
        d+=b
    sys.stdout.write(d.decode(errors="replace"))
except Exception as e: sys.stderr.write(str(e)+"\n")' "$1" "$2"
}
# retry_get HOST PORT EXPECTED: poll (the server in a container may need a moment to listen).
retry_get () {
  local i got=
  for i in $(seq 50); do
    got=$(tcp_get "$1" "$2" 2> /dev/null)
    [ "$got" = "$3" ] && break
    sleep 0.1
  done
  printf '%s' "$got"
}
# (pasta runs as passt.avx2 on CPUs with AVX2)
# (not zombies: a helper killed after its monitor died waits for this VM's pid 1 to reap it)
helpers () { ps -eo pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 ~ /^(pasta|passt|passt\.avx2|slirp4netns)$/ { printf "%s ", $1 }' | sed 's/ $//'; }
count_veths () { ip -o link show 2> /dev/null | grep -c ': nk[0-9a-f]' ; }
# addresses of the bridge held for container ID (the bridge's allocations are host-wide, in /run/nook)
held_by () { jq -r --arg id "$1" '[.allocations[] | select(. == $id)] | length' /run/nook/networks/nook0.json 2> /dev/null || echo 0; }

# A server on the host: root's containers reach it through the bridge, rootless ones through the helper's
# mapping of the host's loopback.
HOSTPORT=$(free_port)
SRVDIR=$(mgr_dir srv)
echo "hello-from-host" > "$SRVDIR/marker"
python3 -m http.server "$HOSTPORT" --bind 0.0.0.0 --directory "$SRVDIR" > /dev/null 2>&1 &
SRVPID=$!
trap 'kill $SRVPID 2> /dev/null; mgr_cleanup' EXIT
for i in $(seq 50); do tcp_get 127.0.0.1 "$HOSTPORT" > /dev/null 2>&1 && break; sleep 0.1; done
HELPERS_BEFORE=$(helpers)

# --- none ------------------------------------------------------------------------------------------------
nrun --rm --network none "$IMG" sh -c 'ls /sys/class/net | tr "\n" " "; echo; cat /sys/class/net/lo/flags;
  wget -T 2 -qO- http://127.0.0.1:'"$HOSTPORT"'/marker > /dev/null 2>&1 && echo reached || echo unreachable'
check_eq none_only_lo "lo " "$(printf '%s\n' "$OUT" | sed -n 1p)"
# IFF_UP is bit 0 of the flags
check_eq none_lo_up 1 "$(( $(printf '%s\n' "$OUT" | sed -n 2p) & 1 ))"
check_eq none_host_loopback_unreachable unreachable "$(printf '%s\n' "$OUT" | sed -n 3p)"
check_eq none_inspect_mode none "$(n inspect --format '{{.HostConfig.NetworkMode}}' "$(n create --network none "$IMG" true)")"

# --- host ------------------------------------------------------------------------------------------------
nrun --rm --network host "$IMG" sh -c 'ls /sys/class/net | grep -c -v "^lo$"; wget -T 5 -qO- http://127.0.0.1:'"$HOSTPORT"'/marker; cat /etc/resolv.conf'
check_eq host_sees_host_interfaces "$(ls /sys/class/net | grep -c -v '^lo$')" "$(printf '%s\n' "$OUT" | sed -n 1p)"
check_eq host_reaches_loopback hello-from-host "$(printf '%s\n' "$OUT" | sed -n 2p)"
check_eq host_resolv_conf "$(grep nameserver /etc/resolv.conf | head -n 1)" "$(printf '%s\n' "$OUT" | grep nameserver | head -n 1)"

# --- the default private network -------------------------------------------------------------------------
if [ "$MODE" = rootless ]; then DEFMODE=pasta; else DEFMODE=bridge; fi
nrun --rm --hostname box1 "$IMG" sh -c 'ls /sys/class/net | tr "\n" " "; echo;
  ip -4 -o addr show eth0 | awk "{print \$4}";
  ip route | grep -c "^default";
  wget -T 5 -qO- http://host.containers.internal:'"$HOSTPORT"'/marker;
  grep -c nameserver /etc/resolv.conf;
  grep -w box1 /etc/hosts | awk "{print \$1}"'
check_eq private_interfaces "eth0 lo " "$(printf '%s\n' "$OUT" | sed -n 1p)" "$ERR"
check_re private_has_address '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$' "$(printf '%s\n' "$OUT" | sed -n 2p)"
check_eq private_default_route 1 "$(printf '%s\n' "$OUT" | sed -n 3p)"
check_eq private_reaches_host hello-from-host "$(printf '%s\n' "$OUT" | sed -n 4p)" "$ERR"
check_re private_resolv_conf '^[1-9]' "$(printf '%s\n' "$OUT" | sed -n 5p)"
check_eq private_hosts_own_address "$(printf '%s\n' "$OUT" | sed -n 2p | cut -d/ -f1)" "$(printf '%s\n' "$OUT" | sed -n 6p)"

id=$(n run -d "$IMG" sleep 300)
check_eq private_inspect_mode "$DEFMODE" "$(ins "$id" '{{.HostConfig.NetworkMode}}')"
ip_in=$(n exec "$id" sh -c "ip -4 -o addr show eth0 | awk '{print \$4}' | cut -d/ -f1")
check_eq private_inspect_ip "$ip_in" "$(ins "$id" '{{.NetworkSettings.IPAddress}}')"
# exec joins the container's network namespace
check_eq exec_same_netns "$(n exec "$id" readlink /proc/1/ns/net)" "$(n exec "$id" readlink /proc/self/ns/net)"
if [ "$MODE" = rootless ]; then
  check_re private_helper_running '[0-9]' "$(helpers)"
fi
n rm -f "$id" > /dev/null
sleep 0.3
[ "$MODE" = root ] && check_eq rm_no_address_held 0 "$(held_by "$id")"
check_eq rm_no_helper_left "$HELPERS_BEFORE" "$(helpers)"
if [ "$MODE" = root ]; then
  check_eq rm_no_veth_left 0 "$(count_veths)"
  # bridge: two containers reach each other by address
  a=$(n run -d "$IMG" nc -lk -p 7000 -e echo from-a)
  a_ip=$(ins "$a" '{{.NetworkSettings.IPAddress}}')
  sleep 0.3
  nrun --rm "$IMG" sh -c "nc -w 3 $a_ip 7000 < /dev/null"
  check_eq bridge_container_to_container from-a "$OUT" "$ERR"
  check_re bridge_nat_rule 'masquerade|MASQUERADE' "$( (nft list ruleset 2> /dev/null; iptables-save -t nat 2> /dev/null) | grep -i -m1 masquerade)"
  n rm -f "$a" > /dev/null
  check_eq bridge_rm_no_veth_left 0 "$(count_veths)"
fi

# the container dies (its process is killed): the helper goes with it
id=$(n run -d "$IMG" sleep 300)
kill -9 "$(ins "$id" '{{.State.Pid}}')"
wait_state "$id" exited 10
sleep 0.3
check_eq died_no_helper_left "$HELPERS_BEFORE" "$(helpers)"
[ "$MODE" = root ] && check_eq died_no_veth_left 0 "$(count_veths)"
n rm -f "$id" > /dev/null
# its monitor is killed: the helper dies with it; rm releases the rest
id=$(n run -d "$IMG" sleep 300)
kill -9 "$(ins "$id" '{{.State.ConmonPid}}')"
sleep 0.5
check_eq monitor_killed_no_helper_left "$HELPERS_BEFORE" "$(helpers)"
n rm -f "$id" > /dev/null
[ "$MODE" = root ] && check_eq monitor_killed_rm_no_veth_left 0 "$(count_veths)"
[ "$MODE" = root ] && check_eq monitor_killed_rm_no_address_held 0 "$(held_by "$id")"

# --- slirp4netns, asked for ------------------------------------------------------------------------------
nrun --rm --network slirp4netns "$IMG" sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}";
  wget -T 5 -qO- http://host.containers.internal:'"$HOSTPORT"'/marker; grep nameserver /etc/resolv.conf'
check_eq slirp_address 10.0.2.100/24 "$(printf '%s\n' "$OUT" | sed -n 1p)" "$ERR"
check_eq slirp_reaches_host hello-from-host "$(printf '%s\n' "$OUT" | sed -n 2p)"
check_eq slirp_dns "nameserver 10.0.2.3" "$(printf '%s\n' "$OUT" | sed -n 3p)"
sleep 0.3
check_eq slirp_no_helper_left "$HELPERS_BEFORE" "$(helpers)"

# --- published ports -------------------------------------------------------------------------------------
P1=$(free_port)
id=$(n run -d --name web1 -p "127.0.0.1:$P1:8080" "$IMG" nc -lk -p 8080 -e echo hello-from-ctr)
check_eq publish_answers hello-from-ctr "$(retry_get 127.0.0.1 "$P1" hello-from-ctr)"
check_eq publish_port_cmd "8080/tcp -> 127.0.0.1:$P1" "$(n port web1)"
check_eq publish_port_cmd_filter "127.0.0.1:$P1" "$(n port web1 8080/tcp)"
check_eq publish_ps_column "127.0.0.1:$P1->8080/tcp" "$(n ps --format '{{.Ports}}' --filter name=web1)"
# the same host port again: a clear error before the container starts
capture n run -d --name web2 -p "127.0.0.1:$P1:8080" "$IMG" sleep 100
check_eq publish_port_taken_rc 125 "$RC"
assert_contains publish_port_taken_msg "address already in use" "$ERR"
check_eq publish_port_taken_not_running "" "$(ins web2 '{{.State.Running}}' | grep -x true)"
n rm -f web2 > /dev/null 2>&1
# -P: exposed ports get free host ports
id2=$(n run -d -P --expose 9090 "$IMG" nc -lk -p 9090 -e echo hello-from-expose)
hp=$(n port "$id2" 9090/tcp | sed 's/.*://')
check_re publish_all_assigned '^[1-9][0-9]*$' "$hp"
check_eq publish_all_answers hello-from-expose "$(retry_get 127.0.0.1 "${hp:-1}" hello-from-expose)"
# udp (the same port on both sides: pasta 2023.03 drops UDP replies when it translates the port)
P2=$(free_port udp)
id3=$(n run -d -p "127.0.0.1:$P2:$P2/udp" "$IMG" sh -c "while true; do nc -u -l -p $P2 -e echo udp-pong; done")
got=
for i in $(seq 30); do
  got=$(python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(0.5)
s.sendto(b"ping\n",("127.0.0.1",int(sys.argv[1])))
try: print(s.recv(100).decode().strip())
except Exception: pass' "$P2")
  [ "$got" = udp-pong ] && break
  sleep 0.2
done
check_eq publish_udp udp-pong "$got"
n rm -f "$id" "$id2" "$id3" > /dev/null
sleep 0.3
check_eq publish_rm_port_free "" "$(tcp_get 127.0.0.1 "$P1" 2> /dev/null)"
check_eq publish_rm_no_helper_left "$HELPERS_BEFORE" "$(helpers)"
[ "$MODE" = root ] && check_eq publish_rm_no_veth_left 0 "$(count_veths)"
# slirp4netns publishes too
P3=$(free_port)
id=$(n run -d --network slirp4netns -p "$P3:8080" "$IMG" nc -lk -p 8080 -e echo hello-via-slirp)
check_eq publish_slirp_answers hello-via-slirp "$(retry_get 127.0.0.1 "$P3" hello-via-slirp)"
n rm -f "$id" > /dev/null

# --- resolv.conf and hosts -------------------------------------------------------------------------------
nrun --rm --dns 192.0.2.53 --dns-search example.test --add-host db.test:192.0.2.7 --add-host gw.test:host-gateway --hostname h1 "$IMG" \
  sh -c 'cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; hostname'
assert_contains dns_flag "nameserver 192.0.2.53" "$OUT"
assert_contains dns_search_flag "search example.test" "$OUT"
assert_contains add_host_flag "192.0.2.7 db.test" "$OUT"
assert_contains hosts_host_entry "host.containers.internal" "$OUT"
check_eq add_host_gateway "$(printf '%s\n' "$OUT" | awk '/host.containers.internal/ { print $1 }')" "$(printf '%s\n' "$OUT" | awk '/gw.test/ { print $1 }')"
check_eq hostname_flag h1 "$(printf '%s\n' "$OUT" | tail -n 1)"

# --- no helper installed ---------------------------------------------------------------------------------
if [ "$MODE" = rootless ]; then
  NOBIN=$(mgr_dir nobin)
  for t in newuidmap newgidmap; do ln -sf "$(command -v $t)" "$NOBIN/$t"; done
  capture as_mode timeout 60 env PATH="$NOBIN" "$NOOK" --root "$STORE" --runroot "$RUNROOT" run --rm "$IMG" true
  check_eq no_helper_rc 125 "$RC"
  assert_contains no_helper_names_packages "passt" "$ERR"
  assert_contains no_helper_names_slirp "slirp4netns" "$ERR"
  capture as_mode timeout 60 env PATH="$NOBIN" "$NOOK" --root "$STORE" --runroot "$RUNROOT" run --rm --network none "$IMG" echo fine
  check_eq no_helper_none_works fine "$OUT" "$ERR"
fi
capture n run --rm --network bogus "$IMG" true
check_eq bad_network_rc 125 "$RC"
capture n run --rm -p 99999:80 "$IMG" true
check_eq bad_publish_rc 125 "$RC"
assert_contains bad_publish_names_value "99999:80" "$ERR"

# --- apt-get update over the default private network (the Debian mirror) ------------------------------------
DEB=$REG/debian:bookworm
capture n pull -q --tls-verify=false "$DEB"
if [ "$RC" != 0 ]; then
  fail private_apt_get_update "pull $DEB failed" "$ERR"
else
  capture n run --rm "$DEB" sh -c 'apt-get update > /tmp/apt.log 2>&1; rc=$?; tail -n 3 /tmp/apt.log; exit $rc'
  if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -q 'Reading package lists'; then pass private_apt_get_update
  else fail private_apt_get_update "rc=$RC" "$OUT
$ERR"; fi
fi
sleep 0.3
check_eq end_no_helper_left "$HELPERS_BEFORE" "$(helpers)"
[ "$MODE" = root ] && check_eq end_no_veth_left 0 "$(count_veths)"

finish
