# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bash completion for synguard(8): commands, interfaces, verbs, options and
# policy keys.  Commands, options and keys come from the binary's own --help,
# so they cannot drift from it.

# _synguard_ifaces [NETNS]: interface names, in NETNS if given.
_synguard_ifaces()
{
	if [[ -n $1 ]]; then
		ip -n "$1" -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
	else
		ls /sys/class/net 2>/dev/null
	fi
}

_synguard()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local sg=${COMP_WORDS[0]} netns= cmd= i
	local -a args=()

	# The words before the cursor: global options, the command, its words.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-n | --netns)
			((i++))
			netns=${COMP_WORDS[i]}
			continue
			;;
		--config | --mode | --listen | --interval | --count | --textfile | --local | --unparsed | \
		--then | --into)
			((i++))
			continue
			;;
		-*) continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=${COMP_WORDS[i]}
		else
			args+=("${COMP_WORDS[i]}")
		fi
	done

	case $prev in
	-n | --netns)
		COMPREPLY=($(compgen -W "$(ip netns list 2>/dev/null | awk '{ print $1 }')" -- "$cur"))
		return
		;;
	--config | --textfile | --then | --into)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--mode)
		COMPREPLY=($(compgen -W "native generic" -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--netns --verbose --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$("$sg" --help 2>/dev/null |
				awk '/^commands:/ { on = 1; next } /^$/ { on = 0 }
				     on && /^  [a-z]/ { n = split($1, c, "|"); for (i = 1; i <= n; i++)
					if (!seen[c[i]]++) print c[i] }')" -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$("$sg" "$cmd" --help 2>/dev/null |
			grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)" -- "$cur"))
		return
	fi
	case $cmd in
	replay)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	status | prune) return ;;
	esac
	# Every other command takes IFACE first.
	if ((${#args[@]} == 0)); then
		COMPREPLY=($(compgen -W "$(_synguard_ifaces "$netns")" -- "$cur"))
		return
	fi
	case $cmd:${#args[@]}:${args[1]:-} in
	config:1:)
		COMPREPLY=($(compgen -W "show set load" -- "$cur"))
		;;
	config:*:set)
		COMPREPLY=($(compgen -W "$("$sg" config --help 2>/dev/null |
			awk '/Keys:$/ { on = 1; next } on { print $1 "=" }')" -- "$cur"))
		[[ ${#COMPREPLY[@]} == 1 ]] && type compopt >/dev/null 2>&1 && compopt -o nospace
		;;
	config:2:load)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	chain:1:)
		COMPREPLY=($(compgen -W "set clear show" -- "$cur"))
		;;
	chain:2:set)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	allow:1: | deny:1:)
		COMPREPLY=($(compgen -W "add del list" -- "$cur"))
		;;
	esac
}
complete -F _synguard synguard
