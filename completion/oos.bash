# Bash completion of the OOS tools (docs/reference.md section 21). The verbs and options come from the tool itself
# (`TOOL --completion-spec`: the CLI11 definition that --help prints, libcommon/app/completion.hpp), read once per
# shell; queue names and task ids come from the database through `oos-queue __complete queues|ids PREFIX`, with the
# --state-dir and --config typed before the word and $OOS_DATABASE_URL. scripts/install puts a copy of this file
# at share/bash-completion/completions/<tool> for each tool. Bash 4.4 or later (mapfile, compopt -o nosort).

# The spec of each tool, by the path typed: read once per shell.
declare -gA _oos_specs

# The status of the tasks whose ids a verb takes: cancel a pending task; complete, fail and renew a running one;
# oos-retry's verbs a dead one; show any.
_oos_id_status() {
  case "$1 $2" in
    "oos-queue cancel") echo pending ;;
    "oos-queue complete" | "oos-queue fail" | "oos-queue renew") echo running ;;
    "oos-retry "*) echo dead ;;
  esac
}

# The oos-queue that lists the words for TOOL: TOOL itself, the oos-queue beside it, else the one on PATH.
_oos_queue_tool() {
  local tool=$1
  case $tool in
    */oos-queue | oos-queue) echo "$tool" ;;
    */*) if [[ -x ${tool%/*}/oos-queue ]]; then echo "${tool%/*}/oos-queue"; else echo oos-queue; fi ;;
    *) echo oos-queue ;;
  esac
}

# Fills COMPREPLY with the values of KIND that start with CUR, for TOOL's VERB; STATE holds the
# --state-dir/--config options typed so far.
_oos_values() {
  local tool=$1 verb=$2 kind=$3 cur=$4
  shift 4
  local queue_tool status
  queue_tool=$(_oos_queue_tool "$tool")
  case $kind in
    queue) mapfile -t COMPREPLY < <("$queue_tool" "$@" __complete queues -- "$cur" 2>/dev/null) ;;
    id)
      status=$(_oos_id_status "${tool##*/}" "$verb")
      mapfile -t COMPREPLY < <("$queue_tool" "$@" __complete ids ${status:+--status "$status"} -- "$cur" 2>/dev/null)
      # Newest first, as listed.
      compopt -o nosort 2>/dev/null
      ;;
    file) mapfile -t COMPREPLY < <(compgen -f -- "$cur") && compopt -o filenames 2>/dev/null ;;
    dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") && compopt -o filenames 2>/dev/null ;;
    choice:*)
      local choices=${kind#choice:}
      mapfile -t COMPREPLY < <(compgen -W "${choices//,/ }" -- "$cur")
      ;;
    *) COMPREPLY=() ;;
  esac
}

_oos_complete() {
  local tool=${COMP_WORDS[0]/#\~/$HOME} cur=${COMP_WORDS[COMP_CWORD]}
  COMPREPLY=()
  if [[ -z ${_oos_specs[$tool]+set} ]]; then
    _oos_specs[$tool]=$("$tool" --completion-spec 2>/dev/null) || {
      unset "_oos_specs[$tool]"
      return 0
    }
  fi
  # The spec (app/completion.hpp): verbs, the value kind of each option by "SCOPE --NAME", positionals by scope.
  local -A kinds=() positionals=()
  local verbs=" " type scope name kind max
  while read -r type scope name kind max; do
    case $type in
      sub) verbs+="$name " ;;
      opt) kinds["$scope $name"]=$kind ;;
      pos) positionals[$scope]+="$kind:$max " ;;
    esac
  done <<<"${_oos_specs[$tool]}"

  # The words before the cursor: the verb, how many positionals, the options that choose the database.
  local verb=- npos=0 i word value state=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ $word == --*=* ]]; then
      [[ ${word%%=*} == --state-dir || ${word%%=*} == --config ]] && state+=("${word%%=*}" "${word#*=}")
    elif [[ $word == -* ]]; then
      kind=${kinds["$verb $word"]-${kinds["- $word"]-}}
      [[ -z $kind || $kind == - ]] && continue
      # The value: the next word, or the one after "=" (COMP_WORDBREAKS splits --opt=value).
      ((i++))
      [[ ${COMP_WORDS[i]} == = ]] && ((i++))
      ((i < COMP_CWORD)) || { i=$((i - 1)) && break; }
      value=${COMP_WORDS[i]}
      [[ $word == --state-dir || $word == --config ]] && state+=("$word" "${value/#\~/$HOME}")
    elif [[ $verb == - && $npos == 0 && $verbs == *" $word "* ]]; then
      verb=$word
    else
      ((npos++))
    fi
  done

  # The value of an option.
  local prev=${COMP_WORDS[COMP_CWORD - 1]}
  [[ $prev == = && $COMP_CWORD -ge 2 ]] && prev=${COMP_WORDS[COMP_CWORD - 2]}
  [[ $cur == = ]] && cur=""
  if ((COMP_CWORD > 1)) && [[ $prev == -* ]]; then
    kind=${kinds["$verb $prev"]-${kinds["- $prev"]-}}
    if [[ -n $kind && $kind != - ]]; then
      _oos_values "$tool" "$verb" "$kind" "$cur" "${state[@]}"
      return 0
    fi
  fi
  # An option of the verb, or of the tool (the tools let them follow the verb).
  if [[ $cur == -* ]]; then
    local key options=""
    for key in "${!kinds[@]}"; do
      [[ $key == "$verb "* || $key == "- "* ]] && options+="${key#* } "
    done
    mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
    return 0
  fi
  # A verb, or the tool's own positional; then the verb's positionals in order (the last may repeat).
  local slots=() slot=""
  read -ra slots <<<"${positionals[$verb]-}"
  if ((npos < ${#slots[@]})); then
    slot=${slots[npos]}
  elif ((${#slots[@]} > 0)) && [[ ${slots[-1]} == *:n ]]; then
    slot=${slots[-1]}
  fi
  if [[ $verb == - && $npos == 0 && $verbs != " " ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
    if [[ -n $slot ]]; then
      local words=("${COMPREPLY[@]}")
      _oos_values "$tool" "$verb" "${slot%:*}" "$cur" "${state[@]}"
      COMPREPLY=("${words[@]}" "${COMPREPLY[@]}")
    fi
    return 0
  fi
  [[ -n $slot ]] && _oos_values "$tool" "$verb" "${slot%:*}" "$cur" "${state[@]}"
  return 0
}

complete -F _oos_complete oos-api oos-backup oos-cleanup oos-health oos-integrity oos-queue oos-retry oos-scale \
  oos-search oos-worker
