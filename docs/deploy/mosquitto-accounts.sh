#!/bin/sh
# gridwall's broker accounts -> mosquitto's password file (docs/production.md §1).
#
# Reads "<user> <password>" lines on stdin (blank lines and # comments skipped) and writes them,
# hashed by mosquitto_passwd (sha512-pbkdf2), to the file named by the argument, replacing it at
# once. The passwords never appear on a command line. What each account may do is
# docs/deploy/mosquitto.acl's: ingest reads, the services and the devices (user name = device id)
# write their own topics.
#
#   sh mosquitto-accounts.sh /etc/mosquitto/passwd < accounts.txt
#   systemctl reload mosquitto          # SIGHUP: the new file is read, connected clients stay
#
# accounts.txt, kept as secret as the passwords in it (or piped from your secret store):
#
#   # every gridwall ingest worker (its GRIDWALL_MQTT_URL)
#   ingest          <password>
#   case-system     <password>
#   video-platform  <password>
#   # one line per device, from the device register
#   C0012           <password>
#   V0031           <password>
#
# A password is the rest of its line (inner spaces kept, a '#' too), without ':'.
#
# One account more or less, without rewriting the file: `mosquitto_passwd /etc/mosquitto/passwd
# C0013` (asks for the password), `mosquitto_passwd -D /etc/mosquitto/passwd C0013`, then reload.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 PASSWORD_FILE < accounts (one '<user> <password>' a line)" >&2
    exit 2
fi
target=$1
tmp=$(mktemp "$target.XXXXXX")
trap 'rm -f "$tmp"' EXIT
n=0
while read -r user password; do
    case $user in '' | '#'*) continue ;; esac
    # A user name becomes a topic level (%u in the ACL): no '/', '+', '#', ':' or spaces.
    case $user in *[!A-Za-z0-9._-]*)
        echo "$0: account '$user': letters, digits, '.', '_' and '-' only" >&2
        exit 1 ;;
    esac
    case $password in
        '') echo "$0: account '$user' has no password" >&2; exit 1 ;;
        # mosquitto_passwd -U would keep only what comes before a second ':'
        *:*) echo "$0: account '$user': a password without ':', please" >&2; exit 1 ;;
    esac
    printf '%s:%s\n' "$user" "$password"
    n=$((n + 1))
done > "$tmp"
mosquitto_passwd -U "$tmp"
chmod 0640 "$tmp"
chgrp mosquitto "$tmp" 2>/dev/null || true  # mosquitto reads it again on a reload, as its own user
mv "$tmp" "$target"
trap - EXIT
echo "$target: $n accounts" >&2
