<?php
/*
 * Plugin Name: greyflux test harness (test-only, not for blogs)
 * Description: Records greyflux's X-akismet-guid on each comment so the test can look up
 * greyflux's stored check; sends no mail; lets one loopback visitor post several comments.
 * Nothing here changes what the Akismet plugin sends or how it reads the answer.
 */

// The guid of the comment-check answer, kept until the comment is inserted.
add_action( 'akismet_comment_check_response', function ( $response ) {
	$GLOBALS['greyflux_test_guid'] = isset( $response[0]['x-akismet-guid'] ) ? $response[0]['x-akismet-guid'] : '';
} );
add_action( 'comment_post', function ( $comment_id ) {
	if ( ! empty( $GLOBALS['greyflux_test_guid'] ) ) {
		add_comment_meta( $comment_id, 'greyflux_test_guid', $GLOBALS['greyflux_test_guid'] );
	}
} );
// Every visitor of the test comes from 127.0.0.1: WordPress's 15-second flood rule would refuse
// the second one.
add_filter( 'comment_flood_filter', '__return_false', 100 );
// No mail (the machine may run a real MTA).
add_filter( 'pre_wp_mail', '__return_false' );
