import { hasRole, type Session } from './api';

export interface NavItem {
  path: string;
  label: string;
  /** Shown only to users with one of these roles (the server checks every call regardless). */
  roles?: string[];
}

export const NAV: NavItem[] = [
  { path: '/', label: 'Inbox' },
  { path: '/queues', label: 'Handoff queue' },
  { path: '/templates', label: 'Templates' },
  { path: '/media', label: 'Media' },
  { path: '/metrics', label: 'Metrics' },
  { path: '/onboarding', label: 'Onboarding' },
  { path: '/operations', label: 'Operations', roles: ['admin'] },
];

/** The side navigation a session sees. */
export function navFor(session: Session | null): NavItem[] {
  return NAV.filter((n) => !n.roles || hasRole(session, ...n.roles));
}
