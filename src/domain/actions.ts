/**
 * @module The public action vocabulary: every permission check of the API names one of these
 * actions, and the built-in roles are expressed over them. The names are stable — custom-role
 * permission presets and API-key scopes use them too — so an action is added, never renamed.
 *
 * Each row says who holds the action (the documented role matrix, see docs/roles.md)
 * and whether taking it is an admin action: an audit entry of an operation is marked
 * `isAdminAction` when an action checked for it is.
 */
import { ROLES, type Role } from "./roles.ts";

/** One action: its stable name, what it allows (a verb phrase, also used in refusals), who holds it. */
interface ActionSpec {
  readonly name: string;
  /** Completes "role X cannot …", e.g. "create users or service accounts". */
  readonly description: string;
  readonly roles: readonly Role[];
  /** Audit entries of operations that check this action carry `isAdminAction: true`. */
  readonly adminAction: boolean;
  /**
   * For an action over the acting principal's own things (its keys, its audit entries, what it
   * created): the action over another principal's. A key of another principal acts as that
   * principal, so what is its own there is another's to whoever makes the key (`overOthers`).
   */
  readonly others?: string;
}

const EVERYONE = ROLES;
const CREATORS = ["contributor", "user", "admin"] as const;
const MANAGERS = ["user", "admin"] as const;
const ADMIN = ["admin"] as const;

/** The vocabulary and the role matrix, one row per action. */
const ACTIONS = [
  { name: "accounts.get", description: "view the account", roles: EVERYONE, adminAction: false },

  { name: "users.list", description: "list users", roles: EVERYONE, adminAction: false },
  { name: "users.get", description: "view users", roles: EVERYONE, adminAction: false },
  { name: "users.create", description: "create users or service accounts", roles: ADMIN, adminAction: true },
  { name: "users.update", description: "modify users or their roles", roles: ADMIN, adminAction: true },
  { name: "users.delete", description: "delete users or service accounts", roles: ADMIN, adminAction: true },
  { name: "users.unbindIdentity", description: "remove users' identity bindings", roles: ADMIN, adminAction: true },
  { name: "users.revokeSessions", description: "revoke users' sessions", roles: ADMIN, adminAction: true },

  { name: "apiKeys.list", description: "list its own API keys", roles: EVERYONE, adminAction: false, others: "apiKeys.listOthers" },
  { name: "apiKeys.get", description: "view its own API keys", roles: EVERYONE, adminAction: false, others: "apiKeys.getOthers" },
  { name: "apiKeys.create", description: "create its own API keys", roles: EVERYONE, adminAction: false, others: "apiKeys.createForServiceAccount" },
  { name: "apiKeys.delete", description: "delete its own API keys", roles: EVERYONE, adminAction: false, others: "apiKeys.deleteOthers" },
  { name: "apiKeys.listOthers", description: "list other principals' API keys", roles: ADMIN, adminAction: true },
  { name: "apiKeys.getOthers", description: "view other principals' API keys", roles: ADMIN, adminAction: true },
  { name: "apiKeys.createForServiceAccount", description: "create API keys for service accounts", roles: ADMIN, adminAction: true },
  { name: "apiKeys.deleteOthers", description: "delete other principals' API keys", roles: ADMIN, adminAction: true },
  { name: "apiKeys.update", description: "change its own API keys (name, restrictions)", roles: EVERYONE, adminAction: false, others: "apiKeys.updateOthers" },
  { name: "apiKeys.updateOthers", description: "change other principals' API keys", roles: ADMIN, adminAction: true },
  { name: "apiKeys.disable", description: "disable or enable its own API keys", roles: EVERYONE, adminAction: false, others: "apiKeys.disableOthers" },
  { name: "apiKeys.disableOthers", description: "disable or enable other principals' API keys", roles: ADMIN, adminAction: true },
  { name: "apiKeys.rotate", description: "rotate its own API keys", roles: EVERYONE, adminAction: false, others: "apiKeys.rotateForServiceAccount" },
  { name: "apiKeys.rotateForServiceAccount", description: "rotate service accounts' API keys", roles: ADMIN, adminAction: true },

  { name: "auditLogs.list", description: "view its own audit log entries", roles: EVERYONE, adminAction: false, others: "auditLogs.listAll" },
  { name: "auditLogs.listAll", description: "view every audit log entry of the account", roles: ADMIN, adminAction: true },
  { name: "auditSettings.update", description: "change the account's audit settings (data-access entries)", roles: ADMIN, adminAction: true },

  { name: "quotas.list", description: "list quotas", roles: EVERYONE, adminAction: false },
  { name: "quotas.get", description: "view quotas", roles: EVERYONE, adminAction: false },
  { name: "quotas.update", description: "change quotas", roles: ADMIN, adminAction: true },

  { name: "keyPolicy.get", description: "view the account's key policy", roles: EVERYONE, adminAction: false },
  { name: "keyPolicy.update", description: "change the account's key policy", roles: ADMIN, adminAction: true },

  { name: "identityProviders.list", description: "list identity providers", roles: EVERYONE, adminAction: false },
  { name: "identityProviders.get", description: "view identity providers", roles: EVERYONE, adminAction: false },
  { name: "identityProviders.create", description: "create identity providers", roles: ADMIN, adminAction: true },
  { name: "identityProviders.update", description: "modify identity providers", roles: ADMIN, adminAction: true },
  { name: "identityProviders.delete", description: "delete identity providers", roles: ADMIN, adminAction: true },

  { name: "permissionPresets.list", description: "list permission presets", roles: EVERYONE, adminAction: false },
  { name: "permissionPresets.get", description: "view permission presets", roles: EVERYONE, adminAction: false },
  { name: "permissionPresets.create", description: "create permission presets", roles: ADMIN, adminAction: true },
  { name: "permissionPresets.update", description: "modify permission presets", roles: ADMIN, adminAction: true },
  { name: "permissionPresets.delete", description: "delete permission presets", roles: ADMIN, adminAction: true },

  { name: "webhooks.list", description: "list webhooks and their deliveries", roles: ADMIN, adminAction: true },
  { name: "webhooks.get", description: "view webhooks", roles: ADMIN, adminAction: true },
  { name: "webhooks.create", description: "create webhooks", roles: ADMIN, adminAction: true },
  { name: "webhooks.update", description: "modify webhooks, rotate their secrets or redeliver their events", roles: ADMIN, adminAction: true },
  { name: "webhooks.delete", description: "delete webhooks", roles: ADMIN, adminAction: true },

  { name: "models.list", description: "list models", roles: EVERYONE, adminAction: false },
  { name: "models.get", description: "view models", roles: EVERYONE, adminAction: false },
  { name: "models.create", description: "create models", roles: CREATORS, adminAction: false },
  { name: "models.manageOwn", description: "update or delete models it created", roles: CREATORS, adminAction: false, others: "models.manageOthers" },
  { name: "models.manageOthers", description: "update or delete models created by others", roles: MANAGERS, adminAction: false },

  { name: "deployments.list", description: "list deployments", roles: EVERYONE, adminAction: false },
  { name: "deployments.get", description: "view deployments", roles: EVERYONE, adminAction: false },
  { name: "deployments.create", description: "create deployments", roles: CREATORS, adminAction: false },
  {
    name: "deployments.manageOwn",
    description: "update or delete deployments it created",
    roles: CREATORS,
    adminAction: false,
    others: "deployments.manageOthers",
  },
  { name: "deployments.manageOthers", description: "update or delete deployments created by others", roles: MANAGERS, adminAction: false },

  { name: "datasets.list", description: "list datasets", roles: EVERYONE, adminAction: false },
  { name: "datasets.get", description: "view datasets", roles: EVERYONE, adminAction: false },
  { name: "datasets.download", description: "download datasets", roles: EVERYONE, adminAction: false },
  { name: "datasets.create", description: "create datasets", roles: CREATORS, adminAction: false },
  {
    name: "datasets.manageOwn",
    description: "upload to, update or delete datasets it created",
    roles: CREATORS,
    adminAction: false,
    others: "datasets.manageOthers",
  },
  { name: "datasets.manageOthers", description: "upload to, update or delete datasets created by others", roles: MANAGERS, adminAction: false },

  { name: "billingUsage.get", description: "view billing usage", roles: EVERYONE, adminAction: false },
  { name: "inference.run", description: "run inference", roles: EVERYONE, adminAction: false },
] as const satisfies readonly ActionSpec[];

export type Action = (typeof ACTIONS)[number]["name"];

/** Every action name, in the table's order. */
export const ACTION_NAMES: readonly Action[] = ACTIONS.map((a) => a.name);

const BY_NAME: ReadonlyMap<Action, ActionSpec> = new Map(ACTIONS.map((a) => [a.name, a]));

const actionsOf = (role: Role): ReadonlySet<Action> => new Set(ACTIONS.filter((a) => (a.roles as readonly Role[]).includes(role)).map((a) => a.name));

/** The actions each built-in role holds (derived from ACTIONS). */
const PERMISSIONS: Readonly<Record<Role, ReadonlySet<Action>>> = Object.freeze({
  "inference-user": actionsOf("inference-user"),
  contributor: actionsOf("contributor"),
  user: actionsOf("user"),
  admin: actionsOf("admin"),
});

/**
 * Pure permission check: may a principal with built-in `role` take `action`? A role outside the
 * built-in ones (`custom`, whose actions are its preset's) holds nothing here.
 */
export function can(role: string, action: Action): boolean {
  return PERMISSIONS[role as Role]?.has(action) ?? false;
}

/** Whether `name` is an action of the vocabulary. */
export function isAction(name: string): name is Action {
  return BY_NAME.has(name as Action);
}

/**
 * What acting as another principal with `action` amounts to for the one who acts: the same action
 * over others' things where `action` is over the principal's own (`datasets.manageOwn` →
 * `datasets.manageOthers`, `apiKeys.delete` → `apiKeys.deleteOthers`, `auditLogs.list` →
 * `auditLogs.listAll`), else `action` itself. Unknown names are returned as they are.
 */
export function overOthers(action: string): string {
  return (BY_NAME.get(action as Action) as ActionSpec | undefined)?.others ?? action;
}

/** Whether taking `action` is an admin action (its audit entries carry `isAdminAction: true`). */
export function isAdminAction(action: Action): boolean {
  return BY_NAME.get(action)!.adminAction;
}

/** The verb phrase of `action`, e.g. "create users or service accounts". */
export function describeAction(action: Action): string {
  return BY_NAME.get(action)!.description;
}
