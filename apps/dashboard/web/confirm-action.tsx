import { ModalDialog } from './modal-dialog.tsx'

/** An evict or ban waiting for the operator's confirmation. */
export interface PendingAction {
  readonly kind: 'evict' | 'ban'
  readonly spiffeId: string
}

const WHAT = {
  evict: {
    title: 'Evict this agent?',
    consequence:
      'Its record is deleted. A k8s_psat agent attests again with its next token and comes back; a k8s_sat agent needs a new token.',
    confirm: 'Evict agent',
  },
  ban: {
    title: 'Ban this agent?',
    consequence:
      'Its attestations and renewals are refused until it is evicted; the agent stops when it is next refused.',
    confirm: 'Ban agent',
  },
} as const

/** Props of {@link ConfirmAction}. */
export interface ConfirmActionProps {
  readonly action: PendingAction
  readonly busy: boolean
  readonly onConfirm: () => void
  readonly onCancel: () => void
}

/** Asks before an evict or a ban, naming the agent and what will happen. */
export function ConfirmAction({ action, busy, onConfirm, onCancel }: ConfirmActionProps) {
  const what = WHAT[action.kind]
  return (
    <ModalDialog title={what.title} role="alertdialog" onClose={onCancel}>
      <p class="spiffe-id">{action.spiffeId}</p>
      <p>{what.consequence}</p>
      <div class="dialog-actions">
        <button type="button" onClick={onCancel} autofocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm} disabled={busy}>
          {what.confirm}
        </button>
      </div>
    </ModalDialog>
  )
}
