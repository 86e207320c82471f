# The signal trap's handler, x86-64 Linux (see src/platform/signal-trap.ts).
# void handler(int sig /* edi */, siginfo_t *info /* rsi */, void *uc /* rdx */)
#
# Raw syscalls only: no libc, no errno, nothing that is not async-signal-safe. Every register
# may be clobbered: sigreturn restores them all from the frame the kernel saved.
#
# A signal sent by another process (si_code <= 0, si_pid != getpid()) is written as one byte to
# the trap's pipe. Anything else is genuine -- a fault (si_code > 0) or our own raise/abort/
# runtime-internal tgkill -- and goes where it went before the trap: the previous handler
# (tail call, same registers), or for SIG_DFL the default disposition is restored so a re-run
# faulting instruction really crashes, or for SIG_IGN nothing.
    .intel_syntax noprefix
    .text
    .globl handler
handler:
    cmp edi, 64
    jae done
    mov eax, dword ptr [rsi + 8]        # si_code
    test eax, eax
    jg genuine
    mov r8d, edi
    mov r9, rsi
    mov eax, 39                         # getpid
    syscall
    mov edi, r8d
    mov rsi, r9
    cmp eax, dword ptr [rsi + 16]       # si_pid
    je genuine
    push rdi                            # its low byte is the signal number to write
    mov eax, 1                          # write(fd, rsp, 1); a full pipe drops it (O_NONBLOCK)
    mov edi, dword ptr [rip + pipe_fd]
    mov rsi, rsp
    mov edx, 1
    syscall
    pop rdi
done:
    ret
genuine:
    lea rax, [rip + previous]
    mov ecx, edi
    mov rax, qword ptr [rax + rcx * 8]
    cmp rax, 1                          # SIG_IGN
    je done
    test rax, rax                       # SIG_DFL
    jz restore_default
    jmp rax
restore_default:
    mov eax, 13                         # rt_sigaction(sig, &{SIG_DFL}, NULL, 8)
    lea rsi, [rip + default_action]
    xor edx, edx
    mov r10d, 8
    syscall
    ret

# The data page: 64 KiB after the code (the largest page size), writable while the code is not.
    .org 65536
pipe_fd: .long -1
    .org 65536 + 8
previous: .fill 64, 8, 0
default_action: .fill 4, 8, 0
