import { useState } from "react";
import { ACTION_GROUPS, actionsOfRole, describeAction, isAdminAction, ROLES, type Action, type Role } from "../permissions.ts";

/**
 * The actions of a permission preset, chosen from the whole vocabulary grouped by resource, each
 * with what it allows. "Add the actions of" copies a built-in role's actions in (a team lead is
 * usually a role plus a few actions), and each group can be ticked whole. An action `holds` says
 * the editor lacks can be taken out but not put in: the server refuses a preset wider than its
 * editor (docs/roles.md), and the box says so before the request does.
 */
export function ActionPicker({
  value,
  onChange,
  holds,
}: {
  value: readonly string[];
  onChange: (actions: string[]) => void;
  holds: (action: Action) => boolean;
}) {
  const [role, setRole] = useState<Role>("contributor");
  const chosen = new Set(value);
  const set = (actions: readonly Action[], on: boolean) => {
    const next = new Set(chosen);
    for (const action of actions) {
      if (!on) next.delete(action);
      else if (holds(action)) next.add(action);
    }
    onChange(ACTION_GROUPS.flatMap((g) => g.actions).filter((a) => next.has(a)));
  };
  const lacking = actionsOfRole(role).filter((a) => !holds(a));
  return (
    <div className="action-picker">
      <div className="action-picker-start">
        <div className="field">
          <label htmlFor="preset-from-role">Add the actions of role</label>
          <select id="preset-from-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="button" onClick={() => set(actionsOfRole(role), true)}>
          Add {role}'s actions
        </button>
        <button type="button" className="button button-quiet" onClick={() => onChange([])} disabled={value.length === 0}>
          Clear
        </button>
      </div>
      {lacking.length > 0 && <p className="hint">You do not hold {lacking.length} of them, so they are left out.</p>}
      <p className="hint" aria-live="polite">
        {value.length} of {ACTION_GROUPS.reduce((n, g) => n + g.actions.length, 0)} actions chosen.
      </p>
      <div className="action-groups">
        {ACTION_GROUPS.map((group) => {
          const all = group.actions.every((a) => chosen.has(a));
          const some = !all && group.actions.some((a) => chosen.has(a));
          const grantable = group.actions.filter(holds);
          return (
            <fieldset key={group.resource} className="action-group">
              <legend>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={all}
                    ref={(box) => {
                      // Some of the group: shown (and announced) as mixed; a click then ticks the whole group.
                      if (box) box.indeterminate = some;
                    }}
                    disabled={!all && !some && grantable.length === 0}
                    onChange={(e) => set(group.actions, e.target.checked)}
                    aria-label={`Every ${group.resource} action`}
                  />
                  <span className="mono">{group.resource}</span>
                </label>
              </legend>
              {group.actions.map((action) => {
                const on = chosen.has(action);
                const barred = !on && !holds(action);
                return (
                  <label
                    key={action}
                    className={barred ? "check barred" : "check"}
                    title={barred ? "You do not hold this action, so you cannot give it." : undefined}
                  >
                    <input type="checkbox" checked={on} disabled={barred} onChange={(e) => set([action], e.target.checked)} />
                    <span>
                      <span className="mono">{action}</span>
                      {isAdminAction(action) && <span className="badge badge-admin-action">admin action</span>}
                      <span className="action-text">{describeAction(action)}</span>
                    </span>
                  </label>
                );
              })}
            </fieldset>
          );
        })}
      </div>
    </div>
  );
}
