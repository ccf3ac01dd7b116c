"""The host commands of `colo`: doctor, plan, apply, revert (their arguments are in dataplane/cli.py)."""
from __future__ import annotations

import json

from dataplane.config import load_config
from hwconfig import apply as host_apply
from hwconfig.doctor import FAIL, diagnose, format_report, kernel_args
from hwconfig.hostfs import HostFS
from hwconfig.placement import place
from hwconfig.plan import PAGE_SIZES, format_plan, make_plan, target
from hwconfig.topology import discover, jsonable


def _target(args, config_path):
    """What the config asks of the host under --root, auto lcores picked there."""
    config = load_config(config_path) if config_path else None
    if config is not None:
        config = place(config, discover(args.root))
    return target(config, PAGE_SIZES[args.page_size])


def doctor(args) -> int:
    topo = discover(args.root)
    tgt = _target(args, args.config)
    findings = diagnose(tgt, topo)
    if args.json:
        print(json.dumps({'host': topo.root, 'config': tgt.path, 'virtual_machine': topo.hypervisor,
                          'findings': jsonable(findings), 'kernel_args': kernel_args(findings)}, indent=1))
    else:
        print(format_report(tgt, topo, findings))
    return 1 if any(f.status == FAIL for f in findings) else 0


def plan(args) -> int:
    result = make_plan(_target(args, args.config), discover(args.root))
    print(json.dumps(jsonable(result), indent=1) if args.json else format_plan(result))
    return 0


def apply(args) -> int:
    fs = HostFS(args.root)
    topo = discover(fs)
    tgt = _target(args, args.config)
    todo = host_apply.changes(tgt, make_plan(tgt, topo), topo)
    if args.dry_run:
        for change in todo:
            print(change.what)
            print(''.join(f'    {host_apply.describe(op)}\n' for op in change.do), end='')
        print(f'{len(todo)} changes (dry run: nothing written)' if todo else 'nothing to change')
    else:
        host_apply.require_root(fs, 'colo apply')
        state = host_apply.state_path(fs, args.state)
        made, refused = host_apply.apply(todo, fs, state)
        print(''.join(f'{what}\n' for what in made), end='')
        print(''.join(f'not done: {note}\n' for note in refused), end='')
        print(f'{len(made)} changes made, recorded in {state} (`colo revert` undoes them)'
              if made else 'nothing changed: the host already matches the plan')
    args_needed = kernel_args(diagnose(tgt, discover(args.root)))
    if args_needed:
        print('not changed (needs a reboot): add to the kernel command line, e.g. GRUB_CMDLINE_LINUX in '
              '/etc/default/grub, then update-grub and reboot:\n    ' + ' '.join(args_needed))
    return 0


def revert(args) -> int:
    fs = HostFS(args.root)
    host_apply.require_root(fs, 'colo revert')
    state = host_apply.state_path(fs, args.state)
    undone, failed = host_apply.revert(fs, state)
    print(''.join(f'undone: {what}\n' for what in undone), end='')
    print(''.join(f'failed: {what}\n' for what in failed), end='')
    if not undone and not failed:
        print(f'nothing to revert ({state} records no changes)')
    elif failed:
        print(f'the changes that failed to undo stay in {state}; fix the cause and run `colo revert` again')
    return 1 if failed else 0
