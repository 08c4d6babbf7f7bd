#!/usr/bin/env bash
# Makes the certificates the TLS tests use, with Debian's openssl, in DIR:
#   ca.pem/.key            the CA that rexecd trusts for clients (--tls-client-ca)
#   other-ca.pem/.key      a CA nobody trusts
#   server.pem/.key        rexecd's: DNS:localhost, IP:127.0.0.1, IP:::1
#   server2.pem/.key       the same names, CN rexecd-rotated (for rotation)
#   client-uri.pem/.key    URI:spiffe://rexec.test/a, DNS:a.rexec.test, CN a-cn
#   client-dns.pem/.key    DNS:b.rexec.test, DNS:c.rexec.test, CN b-cn
#   client-cn.pem/.key     CN cn-only, no SAN
#   client-other.pem/.key  signed by other-ca
#   client-expired.pem/.key  by ca, valid only in January 2020
# Usage: make_certs.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ca() {  # ca NAME CN
  key "$1"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

leaf() {  # leaf NAME CN CA EXTENSIONS
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  printf '%s\n' "basicConstraints=CA:FALSE" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
    -days 30 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

ca ca "rexec test CA"
ca other-ca "another CA"
server_ext="subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
leaf server rexecd-test ca "$server_ext"
leaf server2 rexecd-rotated ca "$server_ext"
leaf client-uri a-cn ca "subjectAltName=URI:spiffe://rexec.test/a,DNS:a.rexec.test
extendedKeyUsage=clientAuth"
leaf client-dns b-cn ca "subjectAltName=DNS:b.rexec.test,DNS:c.rexec.test
extendedKeyUsage=clientAuth"
leaf client-cn cn-only ca "extendedKeyUsage=clientAuth"
leaf client-other a-cn other-ca "subjectAltName=URI:spiffe://rexec.test/a
extendedKeyUsage=clientAuth"

# An expired one needs dates in the past, which only `openssl ca` sets.
mkdir -p expired-ca/new
: > expired-ca/index.txt
echo 1000 > expired-ca/serial
cat > expired-ca/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = $PWD/expired-ca
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
CNF
key client-expired
openssl req -new -key client-expired.key -subj "/CN=expired" \
  -addext "subjectAltName=URI:spiffe://rexec.test/expired" -out client-expired.csr
openssl ca -batch -config expired-ca/ca.cnf -cert ca.pem -keyfile ca.key \
  -in client-expired.csr -out client-expired.pem -notext \
  -startdate 20200101000000Z -enddate 20200131000000Z 2>/dev/null
