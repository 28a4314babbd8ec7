#!/usr/bin/env bash
# The layering check: every #include "folder/..." of a layer must name that layer or one below it.
#
#   base <- tensor <- autograd <- nn <- recsys <- apps
#           tensor <- data             <- recsys
#
# (tests may include anything). Prints each offending line and exits 1; exits 0 when all are clean.
# ctest runs it as the test "layering", so CI fails the moment a folder reaches above itself.
set -uo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [base]="base"
  [tensor]="base tensor"
  [autograd]="base tensor autograd"
  [data]="base tensor data"
  [nn]="base tensor autograd nn"
  [recsys]="base tensor autograd nn data recsys"
  [apps]="base tensor autograd nn data recsys apps"
)

violations=0
for layer in "${!allowed[@]}"; do
  [ -d "$layer" ] || continue
  while IFS= read -r hit; do
    file="${hit%%:*}"
    rest="${hit#*:}"
    line="${rest%%:*}"
    target="$(sed -E 's/.*#include "([^"/]+)\/.*/\1/' <<< "$rest")"
    case " ${allowed[$layer]} " in
      *" $target "*) ;;
      *)
        echo "$file:$line: $layer/ includes $target/ (allowed: ${allowed[$layer]})"
        violations=$((violations + 1)) ;;
    esac
  done < <(grep -rnE '^\s*#\s*include "[^"/]+/' "$layer" --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh')
done

if [ "$violations" -gt 0 ]; then
  echo "layering: $violations include(s) reach above their layer"
  exit 1
fi
echo "layering: every include of base, tensor, autograd, nn, data, recsys and apps stays at or below its layer"
