# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Sourced by the bench scripts after tests/lib.sh: the server namespace's
# sysctls and the nftables defences their rows set up on srv0's ingress
# (one table, netdev sgbench).

sysctl_s() { ip netns exec "$NS_S" sysctl -qw "$@"; }
nft_s() { ip netns exec "$NS_S" nft "$@"; }

# nft_chain RULE: the table sgbench with RULE on the server's ingress.
nft_chain() {
	nft_s -f - <<NFT
table netdev sgbench {
	chain in {
		type filter hook ingress device $SRV_IF priority -500; policy accept;
		$1
	}
}
NFT
}
nft_chain_off() { nft_s delete table netdev sgbench; }

# nft_meter SIZE RATE BURST: a per-source meter of SIZE entries dropping
# each source's SYNs over RATE a second, BURST at once.
nft_meter() {
	nft_chain "tcp flags syn / syn,ack meter sgflood size $1 { ip saddr limit rate over $2/second burst $3 packets } counter drop"
}
