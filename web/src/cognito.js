// Sign-up and sign-in against a Cognito user pool through its JSON API (the same calls
// the AWS SDKs make; no SDK needed): SignUp, ConfirmSignUp, InitiateAuth with
// USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, ForgotPassword and ConfirmForgotPassword
// (the pool mails the code to the verified address). The API accepts the pool's ID token.
import { config } from './config.js';

const MESSAGES = {
  NotAuthorizedException: 'Wrong email or password.',
  UserNotFoundException: 'Wrong email or password.',
  UsernameExistsException: 'An account with this email already exists: sign in instead.',
  UserNotConfirmedException: 'Your account is not confirmed yet: enter the code we emailed you.',
  CodeMismatchException: 'That code is not right: check the email and try again.',
  ExpiredCodeException: 'That code has expired: ask for a new one.',
  InvalidPasswordException: 'That password is too weak: use 10 characters or more, with lower-case letters and digits.',
  LimitExceededException: 'Too many attempts: wait a few minutes and try again.',
  TooManyRequestsException: 'Too many attempts: wait a few minutes and try again.',
};

export class CognitoError extends Error {
  constructor(type, message) {
    super(MESSAGES[type] ?? message ?? type);
    this.type = type;
  }
}

async function call(action, body) {
  let res;
  try {
    res = await fetch(config.cognito.endpoint.replace(/\/?$/, '/'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}` },
      body: JSON.stringify(body),
    });
  } catch {
    throw new CognitoError('Network', 'Cannot reach the sign-in service. Check your connection, then try again.');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new CognitoError(String(data.__type ?? '').split('#').pop(), data.message);
  return data;
}

const clientId = () => config.cognito.clientId;

export const signUp = (email, password) =>
  call('SignUp', { ClientId: clientId(), Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }] });

export const confirm = (email, code) => call('ConfirmSignUp', { ClientId: clientId(), Username: email, ConfirmationCode: code });

export const forgotPassword = (email) => call('ForgotPassword', { ClientId: clientId(), Username: email });

export const confirmForgotPassword = (email, code, password) =>
  call('ConfirmForgotPassword', { ClientId: clientId(), Username: email, ConfirmationCode: code, Password: password });

export const resendCode = (email) => call('ResendConfirmationCode', { ClientId: clientId(), Username: email });

/** {idToken, refreshToken} for the user. */
export async function signIn(email, password) {
  const r = await call('InitiateAuth', { ClientId: clientId(), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } });
  if (!r.AuthenticationResult) throw new CognitoError(r.ChallengeName, `Cognito asks for ${r.ChallengeName}, which this app does not support yet.`);
  return { idToken: r.AuthenticationResult.IdToken, refreshToken: r.AuthenticationResult.RefreshToken };
}

/** A fresh ID token from the refresh token, or null. */
export async function refresh(refreshToken) {
  try {
    const r = await call('InitiateAuth', { ClientId: clientId(), AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } });
    return r.AuthenticationResult?.IdToken ?? null;
  } catch {
    return null;
  }
}
