import type { ComponentChildren } from 'preact'
import { useEffect, useId, useRef } from 'preact/hooks'

/** Props of {@link ModalDialog}. */
export interface ModalDialogProps {
  readonly title: string
  /** `alertdialog` for a confirmation that interrupts. */
  readonly role?: 'dialog' | 'alertdialog'
  readonly onClose: () => void
  readonly children: ComponentChildren
}

/**
 * A native modal `<dialog>`: the browser traps focus inside it, Escape closes it, and focus
 * returns to what opened it.
 */
export function ModalDialog({ title, role = 'dialog', onClose, children }: ModalDialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (dialog !== null && !dialog.open) dialog.showModal()
    return () => dialog?.close()
  }, [])
  const titleId = useId()
  return (
    <dialog ref={ref} role={role} aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  )
}
