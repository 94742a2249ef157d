# The units of systemd/ as a test can use them: a staged copy whose paths
# point into the test, and their command lines as systemd would run them.
# Nothing here needs a running systemd.

# The paths the units use, and what units_stage rewrites them to.
UNIT_BINDIR=/usr/local/bin
UNIT_STATEDIR=/var/lib/promrun

# units_stage DIR: copy the units (and sysusers.d/, tmpfiles.d/) into DIR
# with the programs taken from $PROMRUN_BUILD and /var/lib/promrun made
# DIR/state (created, with its textfile/ directory); node_exporter's
# textfile directory DIR/node-exporter holds the link make install puts
# there, promrun.prom -> DIR/state/textfile/promrun.prom; and a service of
# a user's, example-job.service, with the drop-in added the way the
# drop-in's comment says.  Exports UNITS, STATE, TEXTFILE (promrun's
# textfile directory) and NODE_TEXTFILE (node_exporter's).
units_stage() {
	local src="$BATS_TEST_DIRNAME/../systemd" f
	UNITS=$1 STATE=$1/state TEXTFILE=$1/state/textfile
	NODE_TEXTFILE=$1/node-exporter
	export UNITS STATE TEXTFILE NODE_TEXTFILE
	mkdir -p "$UNITS/example-job.service.d" "$UNITS/sysusers.d" \
	    "$UNITS/tmpfiles.d" "$STATE" "$TEXTFILE" "$NODE_TEXTFILE"
	ln -s "$TEXTFILE/promrun.prom" "$NODE_TEXTFILE/"
	for f in "$src"/*.service "$src"/*.path "$src"/*.timer "$src"/*.conf \
	    "$src"/sysusers.d/*.conf "$src"/tmpfiles.d/*.conf; do
		sed -e "s|$UNIT_BINDIR/|$PROMRUN_BUILD/|g" \
		    -e "s|$UNIT_STATEDIR|$STATE|g" \
		    "$f" >"$UNITS/${f#"$src"/}"
	done
	printf '[Unit]\nDescription=A job of a user'"'"'s\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n' \
	    >"$UNITS/example-job.service"
	ln -s ../promrun-record.conf "$UNITS/example-job.service.d/"
}

# unit_value FILE KEY: the values of KEY= in FILE, one per line.
unit_value() {
	sed -n "s/^$2=//p" "$1"
}

# unit_command FILE KEY UNIT: the command line of KEY= in FILE (which must
# appear once) as systemd runs it for UNIT (e.g. backup.service), one word
# per line: the -+@!: prefixes dropped, the specifiers %N %n %H %% filled
# in.  Fails on quotes or backslashes, which it does not parse.
unit_command() {
	local line name=${3%.*} host
	local -a words
	line=$(unit_value "$1" "$2")
	if [ -z "$line" ] || [ "$(printf '%s\n' "$line" | wc -l)" -ne 1 ]; then
		echo "$1: expected exactly one $2=" >&2
		return 1
	fi
	case $line in *[\"\'\\]*)
		echo "$1: $2= has quoting unit_command does not parse" >&2
		return 1 ;;
	esac
	host=$(uname -n)
	line=${line#"${line%%[!+@!:-]*}"}
	line=${line//%N/$name}
	line=${line//%n/$3}
	line=${line//%H/$host}
	line=${line//%%/%}
	read -ra words <<<"$line"
	printf '%s\n' "${words[@]}"
}

# unit_run FILE KEY UNIT: run that command line.
unit_run() {
	local -a cmd
	mapfile -t cmd < <(unit_command "$@") && [ "${#cmd[@]}" -gt 0 ] ||
	    return 1
	"${cmd[@]}"
}
